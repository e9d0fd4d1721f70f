// A generation batch's page follows the batch by itself: every couple of seconds it asks the
// staff-only progress endpoint (the <progress> element's data-url) and moves the bar and its
// text, until the batch ends (done, failed or cancelled). An external file: the site's
// Content-Security-Policy allows no inline script. See bachsurvey/generation/batch_admin.py.
function followBatch() {
  "use strict";
  var bar = document.getElementById("batch-progress");
  if (!bar) return;
  var text = document.getElementById("batch-progress-text");
  var every = Number(bar.dataset.every) || 2000;

  function show(batch) {
    bar.max = Math.max(batch.count, 1);
    bar.value = batch.done;
    bar.textContent = batch.done + " / " + batch.count;
    bar.dataset.status = batch.status;
    var words = batch.done + " / " + batch.count + ", " + batch.state;
    if (batch.stage) words += ": " + batch.stage;
    if (batch.error) words += " (" + batch.error + ")";
    text.textContent = words;
  }

  function ask() {
    fetch(bar.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (reply) {
        if (!reply.ok) throw new Error("HTTP " + reply.status);
        return reply.json();
      })
      .then(function (batch) {
        show(batch);
        if (batch.ended) bar.dataset.ended = "true";
        else window.setTimeout(ask, every);
      })
      .catch(function () {
        window.setTimeout(ask, every * 5); // the server or the network hiccups: ask less often
      });
  }

  if (bar.dataset.ended !== "true") window.setTimeout(ask, every);
}

// The admin loads its form media in <head>, before the bar exists.
document.addEventListener("DOMContentLoaded", followBatch);
