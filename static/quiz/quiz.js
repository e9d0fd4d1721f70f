// The Bach-or-Bot quiz page: consent, background, a sound check, a practice pair, five two-clip
// questions each with its reveal, results with a recap, and play again.
//
// Rules the page keeps (see issues 6 and 20): a clip must be played to its end before the answer
// buttons unlock; plays and "heard fully" are recorded per clip, and kept in sessionStorage so a
// reload mid-question resumes with what was heard; the response time runs from the moment both
// clips were heard; only the current and the next pair of clips are preloaded, always clip A
// before clip B, so the order of requests says nothing; each answer is sent the moment it is
// given; nothing about a question (its chorale, its scores) is shown before its answer; the
// practice pair is static, marked as practice and never sent to the server; a reload resumes
// from the server's record of this browser's participant.
"use strict";

(function () {
  const TEXT = window.BACH_OR_BOT_TEXT; // static/quiz/text.js, from Django's catalog (/jsi18n/)
  const t = (text, values) => interpolate(text, values, true); // %(name)s filled in

  const API = "/api/participants/";
  const LABELS = ["A", "B"];
  // The API refuses times over an hour as absurd; a tab left open longer is sent as one hour.
  const MAX_MS = 60 * 60 * 1000;
  const since = (start) => Math.min(MAX_MS, Math.round(performance.now() - start));
  // A silent WAV: played on the first tap so Safari lets later clips play.
  const SILENCE =
    "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=";
  const PRACTICE_ID = "practice";
  const HEARD_KEY = "bachsurvey:heard:"; // sessionStorage, per question id: plays and heard

  const $ = (id) => document.getElementById(id);
  const state = JSON.parse($("quiz-state").textContent);
  const categories = JSON.parse($("quiz-categories").textContent);
  const practice = JSON.parse($("quiz-practice").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  let progress = null; // the participant as the API describes it
  let index = 0; // the real question on screen
  let current = null; // the question on screen: one of progress.questions, or the practice pair
  let background = null; // age group and experience, until the participant is created
  const players = new Map(); // question id -> {A: Audio, B: Audio}
  const clipState = new Map(); // Audio -> {ready, failed, url}
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
      const error = new Error(data.detail || t(TEXT.somethingWrong, { status: response.status }));
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

  function fromProgress(created) {
    return {
      id: created.id,
      status: "in_progress",
      answered: 0,
      questions: created.questions.map((q) => Object.assign({ answer: null }, q)),
      results: null,
    };
  }

  // --- what was heard, kept across a reload (sessionStorage: this tab only) ----------------------

  function loadHeard(questionId) {
    try {
      const kept = JSON.parse(sessionStorage.getItem(HEARD_KEY + questionId) || "null");
      if (kept && kept.plays && kept.heard) return kept;
    } catch (error) {
      // storage refused or unreadable: start afresh
    }
    return { plays: { A: 0, B: 0 }, heard: { A: false, B: false } };
  }

  function saveHeard() {
    if (!listen || current.practice) return;
    const kept = { plays: listen.plays, heard: listen.heard };
    try {
      sessionStorage.setItem(HEARD_KEY + current.id, JSON.stringify(kept));
    } catch (error) {
      // private mode may refuse storage: a reload then starts the question afresh
    }
  }

  function forgetHeard(questionId) {
    try {
      sessionStorage.removeItem(HEARD_KEY + questionId);
    } catch (error) {
      // nothing kept
    }
  }

  // --- audio ------------------------------------------------------------------------------------

  function newAudio(url, preload) {
    const audio = new Audio();
    audio.preload = preload;
    audio.src = url;
    clipState.set(audio, { ready: false, failed: false, url: url });
    audio.addEventListener("canplaythrough", () => (clipState.get(audio).ready = true));
    audio.addEventListener("error", () => (clipState.get(audio).failed = true));
    return audio;
  }

  function playersFor(question) {
    if (!question) return null;
    if (!players.has(question.id)) {
      const pair = {};
      for (const clip of question.clips) {
        const audio = newAudio(clip.audio_url, "auto");
        for (const type of ["play", "playing", "waiting", "canplaythrough", "pause", "ended",
          "timeupdate", "error"]) {
          audio.addEventListener(type, (event) => onAudio(question.id, clip.label, event));
        }
        pair[clip.label] = audio;
      }
      players.set(question.id, pair);
    }
    return players.get(question.id);
  }

  function stop(audio) {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    clipState.delete(audio);
  }

  function keepOnly(ids) {
    for (const [id, pair] of players) {
      if (ids.includes(id)) continue;
      for (const audio of Object.values(pair)) stop(audio);
      players.delete(id);
    }
  }

  function stateText(label, audio) {
    const known = clipState.get(audio);
    if (known && known.failed) return TEXT.failed;
    if (!audio.paused && !audio.ended) return known && known.ready ? TEXT.playing : TEXT.loading;
    if (listen && listen.heard[label]) return TEXT.heard;
    return audio.currentTime > 0 && !audio.ended ? TEXT.paused : TEXT.notHeard;
  }

  function renderClip(label) {
    const audio = players.get(current.id)[label];
    const known = clipState.get(audio);
    $("clip-state-" + label).textContent = stateText(label, audio);
    $("retry-" + label).hidden = !(known && known.failed);
    $("clip-" + label).classList.toggle("heard", listen.heard[label]);
    $("clip-" + label).classList.toggle("failed", Boolean(known && known.failed));
    if (listen.heard[label]) $("progress-" + label).value = 1;
  }

  function onAudio(questionId, label, event) {
    if (!listen || !current || current.id !== questionId) return;
    const audio = players.get(questionId)[label];
    if (event.type === "timeupdate") {
      if (audio.duration) {
        const done = Math.min(audio.currentTime / audio.duration, 1);
        $("progress-" + label).value = listen.heard[label] ? 1 : done;
      }
      return;
    }
    if (event.type === "playing") clipState.get(audio).ready = true; // sound has started
    if (event.type === "ended" && !listen.answered) {
      listen.heard[label] = true;
      saveHeard();
      const other = label === "A" ? "B" : "A";
      if (listen.heard.A && listen.heard.B) {
        if (listen.bothHeardAt === null) listen.bothHeardAt = performance.now();
        setAnswersEnabled(true);
        say(TEXT.bothHeard);
      } else {
        say(t(TEXT.oneHeard, { label: label, other: other }));
      }
    } else if (event.type === "error") {
      say(t(TEXT.clipFailed, { label: label }));
    }
    renderClip(label);
    updatePlayButtons();
  }

  function updatePlayButtons() {
    const pair = players.get(current.id);
    for (const label of LABELS) {
      const audio = pair[label];
      const playing = !audio.paused && !audio.ended;
      const again = listen.heard[label] || listen.answered ? TEXT.playAgain : TEXT.play;
      const text = t(playing ? TEXT.pause : again, { label: label });
      $("play-" + label).textContent = text;
      $("replay-" + label).textContent = text;
    }
  }

  function togglePlay(label) {
    const question = current;
    const pair = players.get(question.id);
    const audio = pair[label];
    if (!audio.paused) {
      audio.pause();
      return;
    }
    pair[label === "A" ? "B" : "A"].pause(); // never two clips at once
    if (audio.ended || audio.currentTime === 0) {
      audio.currentTime = 0;
      if (!listen.answered) {
        listen.plays[label] += 1;
        saveHeard();
      }
    }
    audio.play().catch((error) => {
      if (error.name === "AbortError") return; // paused or moved on before it started
      const known = clipState.get(audio);
      if (!known || current.id !== question.id) return;
      if (error.name === "NotSupportedError") known.failed = true; // the file did not load
      say(t(known.failed ? TEXT.clipFailed : TEXT.clipBlocked, { label: label }));
      renderClip(label);
      updatePlayButtons();
    });
    renderClip(label); // "Loading…" at once, until the sound starts
  }

  function retry(label) {
    const audio = players.get(current.id)[label];
    const known = clipState.get(audio);
    known.failed = false;
    known.ready = false;
    audio.src = known.url;
    audio.load();
    say("");
    renderClip(label);
    togglePlay(label);
  }

  // --- the sound check --------------------------------------------------------------------------

  let soundCheck = null;

  function showSoundCheck() {
    $("step").textContent = "";
    $("sound-help").hidden = true;
    $("sound-yes").disabled = true;
    $("sound-state").textContent = TEXT.notHeard;
    if (!soundCheck) {
      soundCheck = newAudio(practice.sound_check, "auto");
      soundCheck.addEventListener("playing", () => {
        $("sound-state").textContent = TEXT.soundPlaying;
        $("sound-yes").disabled = false;
      });
      soundCheck.addEventListener("ended", () => ($("sound-state").textContent = TEXT.soundPlayed));
      soundCheck.addEventListener("error", () => ($("sound-state").textContent = TEXT.soundFailed));
    }
    playersFor(practiceQuestion()); // preload the practice pair meanwhile
    show("sound");
    say("");
  }

  function playSoundCheck() {
    const known = clipState.get(soundCheck);
    if (known.failed) {
      known.failed = false;
      soundCheck.src = known.url;
      soundCheck.load();
    }
    soundCheck.currentTime = 0;
    $("sound-state").textContent = TEXT.loading;
    soundCheck.play().catch(() => ($("sound-state").textContent = TEXT.soundFailed));
  }

  // --- questions --------------------------------------------------------------------------------

  function practiceQuestion() {
    return { id: PRACTICE_ID, practice: true, category: practice.category, clips: practice.clips };
  }

  function setAnswersEnabled(enabled) {
    for (const label of LABELS) $("answer-" + label).disabled = !enabled;
  }

  function present(question, title, step) {
    current = question;
    const kept = question.practice ? null : loadHeard(question.id);
    listen = {
      plays: kept ? kept.plays : { A: 0, B: 0 },
      heard: kept ? kept.heard : { A: false, B: false },
      shownAt: performance.now(),
      bothHeardAt: null,
      sending: false,
      answered: false,
    };
    const resumed = listen.heard.A && listen.heard.B;
    if (resumed) listen.bothHeardAt = performance.now(); // heard before a reload
    $("step").textContent = step;
    $("question-title").textContent = title;
    $("question-hint").textContent = TEXT.hints[question.category] || "";
    $("practice-badge").hidden = !question.practice;
    $("skip-practice").hidden = !question.practice;
    for (const label of LABELS) {
      $("progress-" + label).value = 0;
      renderClip(label);
    }
    updatePlayButtons();
    setAnswersEnabled(resumed);
    show("question");
    say(resumed ? TEXT.bothHeard : TEXT.playBoth);
  }

  function showPractice() {
    if (soundCheck) soundCheck.pause();
    keepOnly([PRACTICE_ID]);
    playersFor(practiceQuestion());
    present(practiceQuestion(), TEXT.practiceTitle, TEXT.practiceStep);
  }

  function showQuestion(i) {
    index = i;
    const question = progress.questions[i];
    const next = progress.questions[i + 1];
    keepOnly([question.id].concat(next ? [next.id] : []));
    playersFor(question);
    playersFor(next); // preload the next pair while this one is heard
    const total = progress.questions.length;
    const title = t(TEXT.questionOf, { n: i + 1, total: total });
    present(question, title, title);
  }

  async function answer(choice) {
    const question = current;
    if (listen.sending || listen.answered || listen.bothHeardAt === null) return;
    listen.sending = true;
    setAnswersEnabled(false);
    for (const audio of Object.values(players.get(question.id))) audio.pause();
    if (question.practice) {
      // Never sent: the practice answer is known to the page, and no statistic may count it.
      listen.answered = true;
      question.answer = {
        choice: choice,
        correct: choice === practice.bach,
        bach: practice.bach,
        chorale: practice.chorale,
        scores: practice.scores,
      };
      showReveal(question);
      return;
    }
    say(TEXT.saving);
    try {
      const result = await call("POST", API + progress.id + "/answers/", {
        question: question.id,
        choice: choice,
        response_ms: since(listen.bothHeardAt),
        elapsed_ms: since(listen.shownAt),
        plays: listen.plays,
        heard_fully: listen.heard,
      });
      listen.answered = true;
      forgetHeard(question.id);
      question.answer = result;
      progress.answered = result.answered;
      if (result.finished) progress.status = "finished";
      showReveal(question);
    } catch (error) {
      if (error.status === 409 || error.status === 400) {
        await resume(); // the server knows better where we are
        say(error.message);
      } else {
        listen.sending = false;
        setAnswersEnabled(true);
        say(t(TEXT.tryAgain, { message: error.message }));
      }
    }
  }

  function choraleText(chorale) {
    if (!chorale || !chorale.bwv) return TEXT.choraleUnknown;
    if (!chorale.title) return t(TEXT.chorale, { bwv: chorale.bwv });
    return t(TEXT.choraleTitled, { bwv: chorale.bwv, title: chorale.title });
  }

  function showReveal(question) {
    current = question;
    if (listen) listen.answered = true;
    const result = question.answer;
    const title = question.practice
      ? (result.correct ? TEXT.practiceRight : TEXT.practiceWrong)
      : (result.correct ? TEXT.right : TEXT.wrong);
    $("reveal-title").textContent = title;
    $("reveal-text").textContent =
      t(TEXT.revealText, { bach: result.bach, choice: result.choice }) +
      (question.practice ? " " + TEXT.practiceNote : "");
    $("reveal-chorale").textContent = choraleText(result.chorale);
    $("reveal-voices").textContent = TEXT.networkVoices[question.category] || "";
    for (const score of result.scores) {
      const isBach = score.label === result.bach;
      const figure = $("score-" + score.label);
      figure.querySelector("figcaption").textContent =
        t(isBach ? TEXT.captionBach : TEXT.captionNetwork, { label: score.label });
      const image = figure.querySelector("img");
      image.src = score.score_url;
      image.alt = t(isBach ? TEXT.scoreAltBach : TEXT.scoreAltNetwork, { label: score.label });
      figure.classList.toggle("bach", isBach);
      figure.classList.toggle("network", !isBach);
    }
    if (!listen) {
      // A reload after an answer: the clips are this question's, not yet loaded.
      listen = { plays: { A: 0, B: 0 }, heard: { A: true, B: true }, answered: true };
    }
    playersFor(question);
    updatePlayButtons();
    let next = TEXT.next;
    if (question.practice) next = TEXT.startReal;
    else if (index + 1 >= progress.questions.length) next = TEXT.seeResults;
    $("next").textContent = next;
    show("reveal");
    say(result.correct ? TEXT.correct : t(TEXT.incorrect, { bach: result.bach }));
  }

  // --- results ----------------------------------------------------------------------------------

  // "59%" in English, "59 %" in German: the page's language (<html lang>) picks the format.
  const PERCENT = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "percent",
    maximumFractionDigits: 0,
  });
  function percent(x) {
    return PERCENT.format(x);
  }

  let recapAudio = null;
  let recapButton = null;

  function stopRecap() {
    if (recapAudio) stop(recapAudio);
    if (recapButton) recapButton.textContent = recapButton.dataset.play;
    recapAudio = recapButton = null;
  }

  function recapPlay(button, url) {
    const again = recapButton === button;
    stopRecap();
    if (again) return; // the second tap stops it
    recapAudio = newAudio(url, "auto");
    recapButton = button;
    button.textContent = t(TEXT.pause, { label: button.dataset.label });
    recapAudio.addEventListener("ended", stopRecap);
    recapAudio.addEventListener("error", () => {
      say(t(TEXT.clipFailed, { label: button.dataset.label }));
      stopRecap();
    });
    recapAudio.play().catch(() => {});
  }

  function renderRecap() {
    const list = $("recap");
    list.replaceChildren();
    for (const question of progress.questions) {
      if (!question.answer) continue;
      const result = question.answer;
      const item = document.createElement("li");
      const text = document.createElement("p");
      text.textContent = t(result.correct ? TEXT.recapRight : TEXT.recapWrong, {
        category: categories[question.category] || question.category,
        bach: result.bach,
      }) + " " + choraleText(result.chorale);
      item.append(text);
      item.classList.add(result.correct ? "right" : "wrong");
      for (const clip of question.clips) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "play recap-play";
        const own = clip.label === result.bach ? TEXT.playBach : TEXT.playNetwork;
        button.dataset.label = clip.label;
        button.dataset.play = t(own, { label: clip.label });
        button.textContent = button.dataset.play;
        button.addEventListener("click", () => recapPlay(button, clip.audio_url));
        item.append(button);
      }
      list.appendChild(item);
    }
  }

  async function showResults() {
    if (!progress.results) progress = await call("GET", API + progress.id + "/");
    const results = progress.results;
    keepOnly([]);
    stopRecap();
    current = null;
    listen = null;
    $("step").textContent = TEXT.results;
    $("results-text").textContent =
      TEXT.resultsText(results.correct, results.answered);
    const body = $("results-table").querySelector("tbody");
    body.replaceChildren();
    for (const row of results.categories) {
      if (!row.your_answered && !row.everyone_answered) continue;
      const tr = document.createElement("tr");
      const cells = [
        categories[row.category] || row.category,
        row.your_answered ? t(TEXT.yours, { correct: row.your_correct, answered: row.your_answered }) : "–",
        row.everyone_answered
          ? TEXT.everyone(percent(row.everyone_accuracy), row.everyone_answered)
          : TEXT.noAnswers,
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
      text.textContent = TEXT.scoreLine(score, count, score === results.correct);
      item.append(bar, text);
      list.appendChild(item);
    });
    renderRecap();
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

  async function begin(url, body, button) {
    button.disabled = true;
    say(TEXT.preparing);
    try {
      const created = await call("POST", url, body);
      state.participant = created.id;
      progress = fromProgress(created);
      stopRecap();
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
  }

  // --- wiring -----------------------------------------------------------------------------------

  $("consent-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!$("consent").checked) {
      say(TEXT.consentFirst);
      $("consent").focus();
      return;
    }
    say("");
    $("step").textContent = TEXT.aboutYou;
    show("background");
  });

  $("background-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const age = form.elements.age_group.value;
    const experience = form.elements.experience.value;
    if (!age || !experience) {
      say(TEXT.backgroundFirst);
      return;
    }
    // The study's rules for minors, before the sound check rather than after the practice (the
    // server enforces them again when the quiz starts, and stores nothing when it refuses).
    const minor = state.minor_groups.includes(age);
    if (minor && state.minors === "stop") {
      $("step").textContent = "";
      show("too-young");
      return;
    }
    if (minor && !$("guardian-consent").checked) {
      say(TEXT.guardianFirst);
      $("guardian-consent").focus();
      return;
    }
    background = {
      age_group: age,
      experience: experience,
      consent_version: state.consent_version,
      guardian_consent: $("guardian-consent").checked,
    };
    showSoundCheck();
  });

  $("sound-play").addEventListener("click", playSoundCheck);
  $("sound-yes").addEventListener("click", showPractice);
  $("sound-no").addEventListener("click", () => {
    soundCheck.pause();
    $("sound-help").hidden = false;
    say(TEXT.soundHelp);
  });

  function startQuestions() {
    keepOnly([]);
    begin(API, Object.assign({ consent: $("consent").checked }, background), $("next"));
  }

  $("skip-practice").addEventListener("click", startQuestions);

  for (const label of LABELS) {
    $("play-" + label).addEventListener("click", () => togglePlay(label));
    $("replay-" + label).addEventListener("click", () => togglePlay(label));
    $("retry-" + label).addEventListener("click", () => retry(label));
    $("answer-" + label).addEventListener("click", () => answer(label));
  }

  $("next").addEventListener("click", () => {
    if (current && current.practice) startQuestions();
    else if (index + 1 < progress.questions.length) showQuestion(index + 1);
    else showResults().catch((error) => say(error.message));
  });

  $("share-copy").addEventListener("click", () => {
    const url = $("share-link").href;
    const done = () => say(TEXT.copied);
    const failed = () => say(t(TEXT.copyFailed, { url: url }));
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(done, failed);
    else failed();
  });

  $("play-again").addEventListener("click", () =>
    begin(API + progress.id + "/again/", undefined, $("play-again")));

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
      stopRecap();
      $("withdrawn-text").textContent =
        TEXT.withdrawn(done.deleted_answers);
      $("step").textContent = "";
      show("withdrawn");
      say(TEXT.deleted);
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
