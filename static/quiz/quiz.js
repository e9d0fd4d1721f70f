// The Bach-or-Bot quiz page: consent, background, five two-clip questions, results.
//
// Rules the page keeps (see issue 6): a clip must be played to its end before the answer buttons
// unlock; plays and "heard fully" are recorded per clip; the response time runs from the moment
// both clips were heard; only the current and the next pair of clips are preloaded, always clip
// A before clip B, so the order of requests says nothing; each answer is sent the moment it is
// given; a reload resumes from the server's record of this browser's participant.
"use strict";

(function () {
  const API = "/api/participants/";
  const HINTS = {
    S: "In one clip the soprano (the top voice, the melody) was rewritten by the network.",
    A: "In one clip the alto (the second voice from the top) was rewritten by the network.",
    T: "In one clip the tenor (the third voice from the top) was rewritten by the network.",
    B: "In one clip the bass (the lowest voice) was rewritten by the network.",
    AT: "In one clip the alto and tenor (the two middle voices) were rewritten by the network.",
    ATB: "In one clip everything but the melody was rewritten by the network.",
    SATB: "One clip is from a Bach chorale; the other was composed entirely by the network.",
  };
  const LABELS = ["A", "B"];
  // The API refuses times over an hour as absurd; a tab left open longer is sent as one hour.
  const MAX_MS = 60 * 60 * 1000;
  const since = (start) => Math.min(MAX_MS, Math.round(performance.now() - start));
  // A silent WAV: played on the first tap so Safari lets later clips play.
  const SILENCE =
    "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";

  const $ = (id) => document.getElementById(id);
  const state = JSON.parse($("quiz-state").textContent);
  const categories = JSON.parse($("quiz-categories").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  let progress = null; // the participant as the API describes it
  let index = 0; // the question on screen
  const players = new Map(); // question id -> {A: Audio, B: Audio}
  let listen = null; // what happened on the current question

  // --- plumbing ---------------------------------------------------------------------------------

  function say(text) {
    $("status").textContent = text;
  }

  function show(name) {
    for (const view of document.querySelectorAll("[data-view]")) {
      view.hidden = view.id !== "view-" + name;
    }
    window.scrollTo(0, 0);
    const heading = document.querySelector("#view-" + name + " h1");
    if (heading) heading.focus();
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.detail || "Something went wrong (" + response.status + ").");
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  function unlockAudio() {
    const audio = new Audio(SILENCE);
    audio.volume = 0;
    audio.play().catch(() => {});
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  // --- audio ------------------------------------------------------------------------------------

  function playersFor(i) {
    const question = progress.questions[i];
    if (!question) return null;
    if (!players.has(question.id)) {
      const pair = {};
      for (const clip of question.clips) {
        const audio = new Audio();
        audio.preload = "auto";
        audio.src = clip.audio_url;
        for (const type of ["play", "pause", "ended", "timeupdate", "error"]) {
          audio.addEventListener(type, (event) => onAudio(question.id, clip.label, event));
        }
        pair[clip.label] = audio;
      }
      players.set(question.id, pair);
    }
    return players.get(question.id);
  }

  function keepOnly(ids) {
    for (const [id, pair] of players) {
      if (ids.includes(id)) continue;
      for (const audio of Object.values(pair)) {
        audio.pause();
        audio.removeAttribute("src");
        audio.load();
      }
      players.delete(id);
    }
  }

  function onAudio(questionId, label, event) {
    const question = progress.questions[index];
    if (!listen || !question || question.id !== questionId) return;
    const audio = players.get(questionId)[label];
    if (event.type === "timeupdate" && audio.duration) {
      $("progress-" + label).value = Math.min(audio.currentTime / audio.duration, 1);
    } else if (event.type === "ended") {
      listen.heard[label] = true;
      $("progress-" + label).value = 1;
      $("clip-state-" + label).textContent = "Heard to the end";
      $("clip-" + label).classList.add("heard");
      const other = label === "A" ? "B" : "A";
      if (listen.heard.A && listen.heard.B) {
        if (listen.bothHeardAt === null) listen.bothHeardAt = performance.now();
        setAnswersEnabled(true);
        say("Both clips heard. Which one is Bach?");
      } else {
        say("Clip " + label + " heard. Now play clip " + other + " to the end.");
      }
    } else if (event.type === "error") {
      say("Clip " + label + " could not be loaded. Check your connection and reload the page.");
    } else if (event.type === "play") {
      $("clip-state-" + label).textContent = "Playing…";
    } else if (event.type === "pause" && !audio.ended) {
      $("clip-state-" + label).textContent = listen.heard[label] ? "Heard to the end" : "Paused";
    }
    if (event.type !== "timeupdate") updatePlayButtons();
  }

  function updatePlayButtons() {
    const pair = players.get(progress.questions[index].id);
    for (const label of LABELS) {
      const audio = pair[label];
      const playing = !audio.paused && !audio.ended;
      const again = listen.heard[label] ? "Play " + label + " again" : "Play " + label;
      $("play-" + label).textContent = playing ? "Pause " + label : again;
    }
  }

  function togglePlay(label) {
    const pair = players.get(progress.questions[index].id);
    const audio = pair[label];
    if (!audio.paused) {
      audio.pause();
      return;
    }
    pair[label === "A" ? "B" : "A"].pause(); // never two clips at once
    if (audio.ended || audio.currentTime === 0) {
      audio.currentTime = 0;
      listen.plays[label] += 1;
    }
    audio.play().catch((error) => say("The clip could not be played: " + error.message));
  }

  // --- views ------------------------------------------------------------------------------------

  function setAnswersEnabled(enabled) {
    for (const label of LABELS) $("answer-" + label).disabled = !enabled;
  }

  function showQuestion(i) {
    index = i;
    const question = progress.questions[i];
    const next = progress.questions[i + 1];
    keepOnly([question.id].concat(next ? [next.id] : []));
    playersFor(i);
    playersFor(i + 1); // preload the next pair while this one is heard
    listen = {
      plays: { A: 0, B: 0 },
      heard: { A: false, B: false },
      shownAt: performance.now(),
      bothHeardAt: null,
      sending: false,
    };
    const total = progress.questions.length;
    $("step").textContent = "Question " + (i + 1) + " of " + total;
    $("question-title").textContent = "Question " + (i + 1) + " of " + total;
    $("question-hint").textContent = HINTS[question.category] || "";
    for (const label of LABELS) {
      $("progress-" + label).value = 0;
      $("clip-state-" + label).textContent = "Not heard yet";
      $("clip-" + label).classList.remove("heard");
    }
    updatePlayButtons();
    setAnswersEnabled(false);
    show("question");
    say("Play both clips to the end; then the answer buttons unlock.");
  }

  async function answer(choice) {
    const question = progress.questions[index];
    if (listen.sending || listen.bothHeardAt === null) return;
    listen.sending = true;
    setAnswersEnabled(false);
    for (const audio of Object.values(players.get(question.id))) audio.pause();
    say("Saving your answer…");
    try {
      const result = await call("POST", API + progress.id + "/answers/", {
        question: question.id,
        choice: choice,
        response_ms: since(listen.bothHeardAt),
        elapsed_ms: since(listen.shownAt),
        plays: listen.plays,
        heard_fully: listen.heard,
      });
      question.answer = result;
      progress.answered = result.answered;
      if (result.finished) progress.status = "finished";
      showReveal(index);
    } catch (error) {
      if (error.status === 409 || error.status === 400) {
        await resume(); // the server knows better where we are
        say(error.message);
      } else {
        listen.sending = false;
        setAnswersEnabled(true);
        say(error.message + " Please try again.");
      }
    }
  }

  function showReveal(i) {
    const result = progress.questions[i].answer;
    $("reveal-title").textContent = result.correct ? "Right: that was Bach." : "Not this time.";
    $("reveal-text").textContent =
      "Bach was clip " + result.bach + "; you chose clip " + result.choice + ".";
    for (const score of result.scores) {
      const who = score.label === result.bach ? "Bach" : "the network";
      const figure = $("score-" + score.label);
      figure.querySelector("figcaption").textContent = "Clip " + score.label + ": " + who;
      const image = figure.querySelector("img");
      image.src = score.score_url;
      image.alt = "Score of clip " + score.label + " (" + who + ")";
      figure.classList.toggle("bach", score.label === result.bach);
    }
    const last = i + 1 >= progress.questions.length;
    $("next").textContent = last ? "See your results" : "Next question";
    show("reveal");
    say(result.correct ? "Correct." : "Incorrect. Bach was clip " + result.bach + ".");
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function percent(x) {
    return Math.round(x * 100) + "%";
  }

  async function showResults() {
    if (!progress.results) progress = await call("GET", API + progress.id + "/");
    const results = progress.results;
    keepOnly([]);
    $("step").textContent = "Results";
    $("results-text").textContent =
      "You found Bach in " + results.correct + " of " + results.answered + " questions.";
    const body = $("results-table").querySelector("tbody");
    body.replaceChildren();
    for (const row of results.categories) {
      if (!row.your_answered && !row.everyone_answered) continue;
      const tr = document.createElement("tr");
      const cells = [
        categories[row.category] || row.category,
        row.your_answered ? row.your_correct + " of " + row.your_answered : "–",
        row.everyone_answered
          ? percent(row.everyone_accuracy) + " of " + plural(row.everyone_answered, "answer")
          : "no answers yet",
      ];
      cells.forEach((text, column) => {
        const cell = document.createElement(column === 0 ? "th" : "td");
        if (column === 0) cell.scope = "row";
        cell.textContent = text;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    }
    const list = $("distribution");
    list.replaceChildren();
    const most = Math.max(1, ...results.score_distribution);
    results.score_distribution.forEach((count, score) => {
      const item = document.createElement("li");
      const bar = document.createElement("span");
      bar.className = "bar" + (score === results.correct ? " yours" : "");
      bar.style.width = (100 * count) / most + "%";
      const text = document.createElement("span");
      const people = count === 1 ? "1 person" : count + " people";
      const you = score === results.correct ? " (you)" : "";
      text.textContent = score + " of 5: " + people + you;
      item.append(bar, text);
      list.appendChild(item);
    });
    $("withdraw-confirm").hidden = true;
    $("withdraw").hidden = false;
    $("withdrawal-code").textContent = progress.withdrawal_code || "";
    $("withdrawal-code-line").hidden = !progress.withdrawal_code;
    show("results");
    say("");
  }

  async function resume() {
    progress = await call("GET", API + state.participant + "/");
    if (progress.status === "withdrawn") {
      $("step").textContent = "";
      show("withdrawn");
    } else if (progress.status === "finished") {
      await showResults();
    } else {
      showQuestion(progress.questions.findIndex((q) => q.answer === null));
    }
  }

  // --- wiring -----------------------------------------------------------------------------------

  $("consent-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!$("consent").checked) {
      say("Please tick the box to agree before starting.");
      $("consent").focus();
      return;
    }
    say("");
    $("step").textContent = "About you";
    show("background");
  });

  $("background-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const age = form.elements.age_group.value;
    const experience = form.elements.experience.value;
    if (!age || !experience) {
      say("Please choose your age group and your experience with music.");
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    say("Preparing your questions…");
    try {
      const created = await call("POST", API, {
        consent: $("consent").checked,
        age_group: age,
        experience: experience,
        consent_version: state.consent_version,
        guardian_consent: $("guardian-consent").checked,
      });
      state.participant = created.id;
      progress = {
        id: created.id,
        status: "in_progress",
        answered: 0,
        questions: created.questions.map((q) => Object.assign({ answer: null }, q)),
        results: null,
      };
      showQuestion(0);
    } catch (error) {
      const code = error.data && error.data.code;
      if (code === "too_young") {
        $("step").textContent = "";
        show("too-young"); // nothing was stored
        return;
      }
      say(error.message);
      if (code === "guardian_required") $("guardian-consent").focus();
    } finally {
      button.disabled = false;
    }
  });

  for (const label of LABELS) {
    $("play-" + label).addEventListener("click", () => togglePlay(label));
    $("answer-" + label).addEventListener("click", () => answer(label));
  }

  $("next").addEventListener("click", () => {
    if (index + 1 < progress.questions.length) showQuestion(index + 1);
    else showResults().catch((error) => say(error.message));
  });

  $("withdraw").addEventListener("click", () => {
    $("withdraw").hidden = true;
    $("withdraw-confirm").hidden = false;
    $("withdraw-no").focus();
  });
  $("withdraw-no").addEventListener("click", () => {
    $("withdraw-confirm").hidden = true;
    $("withdraw").hidden = false;
    $("withdraw").focus();
  });
  $("withdraw-yes").addEventListener("click", async () => {
    try {
      const done = await call("POST", API + progress.id + "/withdraw/");
      $("withdrawn-text").textContent =
        "You have withdrawn from the study. Your " + plural(done.deleted_answers, "answer") +
        " and your background answers are deleted. Thank you for listening.";
      $("step").textContent = "";
      show("withdrawn");
      say("Your answers have been deleted.");
    } catch (error) {
      say(error.message);
    }
  });

  $("again").addEventListener("click", () => {
    $("consent").checked = false;
    $("background-form").reset();
    show("landing");
  });

  if (state.participant) {
    resume().catch((error) => {
      show("landing");
      say(error.message);
    });
  } else {
    show("landing");
  }
})();
