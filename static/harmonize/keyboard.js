/* The harmonizer's on-screen piano: one octave C..C, played with the mouse, a finger or the
   computer keys A W S E D F T G Y H U J K; each note (at the chosen length), rest, fermata and
   bar line is written into the melody's text field in the text syntax, where it can be edited. */
"use strict";

window.BachKeyboard = (function () {
  const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B", "C"];
  const KEYS = "awsedftgyhujk";
  let octave = 4;
  let quarters = 1;
  let dotted = false;
  let audio = null;

  function field() { return document.getElementById("melody-text"); }

  function append(item) {
    const text = field().value.replace(/\s+$/, "");
    field().value = text ? text + " " + item : item;
  }

  function length() {
    const value = dotted ? quarters * 1.5 : quarters;
    return value === 1 ? "" : ":" + value;
  }

  function tone(semitone) {
    // A short sine tone, so that a player hears what was entered; silence if audio is refused.
    try {
      audio = audio || new AudioContext();
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      const midi = (octave + 1) * 12 + semitone;
      oscillator.frequency.value = 440 * Math.pow(2, (midi - 69) / 12);
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.4);
    } catch (error) { /* no sound is fine */ }
  }

  function play(index) {
    const name = NAMES[index] + (index === 12 ? octave + 1 : octave);
    append(name + length());
    tone(index);
    const key = document.querySelector('#piano button[data-index="' + index + '"]');
    key.classList.add("lit");
    setTimeout(function () { key.classList.remove("lit"); }, 150);
  }

  // A key's name as the page's language says it: B is H in German. The melody's text keeps B.
  function spoken(index) {
    return index === 11 ? pgettext("note name", "B") : NAMES[index];
  }

  function label() {
    // Each key says which note it plays now (the octave changes) and its computer key.
    document.querySelectorAll("#piano button").forEach(function (key) {
      const index = Number(key.dataset.index);
      const values = {
        note: spoken(index).replace("#", ""),
        octave: index === 12 ? octave + 1 : octave,
        key: KEYS[index].toUpperCase(),
      };
      const words = NAMES[index].includes("#")
        ? gettext("%(note)s sharp %(octave)s (key %(key)s)")
        : gettext("%(note)s%(octave)s (key %(key)s)");
      key.setAttribute("aria-label", interpolate(words, values, true));
    });
  }

  function pressLength(button) {
    document.querySelectorAll(".length").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === button));
    });
    quarters = Number(button.dataset.quarters);
  }

  function build() {
    const piano = document.getElementById("piano");
    NAMES.forEach(function (name, index) {
      const key = document.createElement("button");
      key.type = "button";
      key.dataset.index = String(index);
      key.className = name.includes("#") ? "black" : "white";
      key.textContent = name.includes("#") ? "" : spoken(index);
      key.addEventListener("click", function () { play(index); });
      piano.appendChild(key);
    });
    label();
    piano.addEventListener("keydown", function (event) {
      const index = KEYS.indexOf(event.key.toLowerCase());
      if (index < 0 || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      play(index);
    });
    document.querySelectorAll(".length").forEach(function (button) {
      button.addEventListener("click", function () { pressLength(button); });
    });
    const dot = document.getElementById("dotted");
    dot.addEventListener("click", function () {
      dotted = !dotted;
      dot.setAttribute("aria-pressed", String(dotted));
    });
    document.getElementById("add-rest").addEventListener("click", function () { append("r" + length()); });
    document.getElementById("add-bar").addEventListener("click", function () { append("|"); });
    document.getElementById("add-fermata").addEventListener("click", function () {
      field().value = field().value.replace(/([A-Ga-g][#b]*\d(:[\d.\/]+)?)\s*$/, "$1^");
    });
    document.getElementById("undo").addEventListener("click", function () {
      field().value = field().value.replace(/\s*\S+\s*$/, "");
    });
    function shift(by) {
      octave = Math.min(5, Math.max(2, octave + by));
      document.getElementById("octave").textContent = interpolate(gettext("Octave %(n)s"), { n: octave }, true);
      label();
    }
    document.getElementById("octave-down").addEventListener("click", function () { shift(-1); });
    document.getElementById("octave-up").addEventListener("click", function () { shift(1); });
  }

  return { build: build };
})();
