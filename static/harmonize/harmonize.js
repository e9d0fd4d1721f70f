/* The harmonizer's page: send the melody (text, ABC, a file, or what the piano wrote), poll the
   request until it is done, then show the score, the audio and the downloads. Plain JavaScript,
   no inline script or style (the site's Content-Security-Policy). */
"use strict";

(function () {
  const MAX_FILE_BYTES = 1000000;
  const POLL_MS = 500;
  const $ = function (id) { return document.getElementById(id); };

  function mode() { return document.querySelector('input[name="mode"]:checked').value; }

  function showPanels() {
    const chosen = mode();
    document.querySelectorAll("[data-panel]").forEach(function (panel) {
      panel.hidden = !panel.dataset.panel.split(" ").includes(chosen);
    });
  }

  function syncVoices() {
    // The melody's own voice cannot be filled: its box is unticked and disabled.
    const melodyVoice = $("melody-voice").value;
    document.querySelectorAll('input[name="fill"]').forEach(function (box) {
      const own = box.value === melodyVoice;
      if (own) box.checked = false;
      box.disabled = own;
    });
  }

  function base64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  async function melody() {
    // {melody, format} from the chosen input, or throws an Error with a message for the page.
    const chosen = mode();
    if (chosen === "text" || chosen === "keyboard") return { melody: $("melody-text").value, format: "text" };
    if (chosen === "abc") return { melody: $("melody-abc").value, format: "abc" };
    const file = $("melody-file").files[0];
    if (!file) throw new Error(gettext("Choose a file first."));
    if (file.size > MAX_FILE_BYTES) throw new Error(gettext("The file is over 1 MB; a melody file may be at most 1 MB."));
    const name = file.name.toLowerCase();
    if (/\.midi?$/.test(name)) return { melody: base64(await file.arrayBuffer()), format: "midi" };
    if (/\.(musicxml|xml)$/.test(name)) return { melody: await file.text(), format: "musicxml" };
    if (/\.abc$/.test(name)) return { melody: await file.text(), format: "abc" };
    if (/\.txt$/.test(name)) return { melody: await file.text(), format: "text" };
    throw new Error(gettext("Give a .musicxml, .xml, .mid, .midi, .abc or .txt file."));
  }

  function request(body) {
    const voices = Array.from(document.querySelectorAll('input[name="fill"]:checked'))
      .map(function (box) { return box.value; }).join("");
    return Object.assign(body, {
      voices: voices,
      melody_voice: $("melody-voice").value,
      method: document.querySelector('input[name="method"]:checked').value,
    });
  }

  function problem(reply) {
    // A refusal's words: {detail} or messages by field.
    if (reply && reply.detail) return reply.detail;
    if (reply && typeof reply === "object") {
      return Object.keys(reply).map(function (field) {
        return field + ": " + [].concat(reply[field]).join(" ");
      }).join("\n");
    }
    return gettext("Something went wrong; please try again.");
  }

  // The task's stages (bachsurvey.harmonize.work), as the page says them; another stage is shown
  // as the server names it.
  const STAGES = {
    queued: gettext("Waiting for the harmonizer…"),
    harmonizing: gettext("The network is harmonizing…"),
    "writing the score and the audio": gettext("The network is writing the score and the audio…"),
  };
  function stageText(stage) {
    return STAGES[stage] || interpolate(gettext("The network is %(stage)s…"), { stage: stage }, true);
  }

  function busy(on, stage) {
    $("harmonize").disabled = on;
    $("progress").hidden = !on;
    if (stage) $("stage").textContent = stage;
  }

  function fail(message) {
    busy(false);
    $("error").textContent = message;
    $("error").hidden = false;
  }

  function show(state) {
    busy(false);
    $("score").src = state.score_url;
    $("audio").src = state.audio_url;
    $("download-musicxml").href = state.musicxml_url;
    $("download-midi").href = state.midi_url;
    const summary = state.method === "beam"
      ? gettext("In %(key)s, beam search; the network's log-probability of the result: %(logp)s (natural log). Kept until %(until)s.")
      : gettext("In %(key)s, greedy search; the network's log-probability of the result: %(logp)s (natural log). Kept until %(until)s.");
    const lang = document.documentElement.lang || undefined;
    $("summary").textContent = interpolate(summary, {
      key: state.key,
      logp: state.log_prob.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
      until: new Date(state.expires_at).toLocaleString(lang),
    }, true);
    $("result").hidden = false;
    $("result").querySelector("h2").focus();
  }

  async function poll(url) {
    for (;;) {
      const reply = await fetch(url, { headers: { Accept: "application/json" } });
      const state = await reply.json();
      if (!reply.ok) return fail(problem(state));
      if (state.status === "done") return show(state);
      if (state.status === "failed") return fail(state.error);
      busy(true, state.status === "pending" ? gettext("Waiting for the harmonizer…") : stageText(state.stage));
      await new Promise(function (resolve) { setTimeout(resolve, POLL_MS); });
    }
  }

  async function submit(event) {
    event.preventDefault();
    $("error").hidden = true;
    $("result").hidden = true;
    let body;
    try {
      body = request(await melody());
    } catch (error) {
      return fail(error.message);
    }
    busy(true, gettext("Sending the melody…"));
    try {
      const reply = await fetch("/api/harmonizations/", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const data = await reply.json().catch(function () { return null; });
      if (reply.status !== 202) return fail(problem(data));
      await poll(data.status_url);
    } catch (error) {
      fail(gettext("The site could not be reached; please try again."));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    window.BachKeyboard.build();
    document.querySelectorAll('input[name="mode"]').forEach(function (radio) {
      radio.addEventListener("change", showPanels);
    });
    $("melody-voice").addEventListener("change", syncVoices);
    $("melody-form").addEventListener("submit", submit);
    showPanels();
    syncVoices();
  });
})();
