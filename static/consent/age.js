// The background form's age step: a minor's age group shows the guardian's checkbox when the
// study lets minors take part with a parent's or guardian's agreement. The server decides
// either way (a minor is refused without it, or stopped); this only asks at the right moment.
"use strict";

(function () {
  const state = JSON.parse(document.getElementById("quiz-state").textContent);
  const form = document.getElementById("background-form");
  const guardian = document.getElementById("guardian");
  const box = document.getElementById("guardian-consent");

  function update() {
    const age = form.elements.age_group.value;
    const needed = state.minors === "guardian" && state.minor_groups.includes(age);
    guardian.hidden = !needed;
    if (!needed) box.checked = false;
  }

  form.addEventListener("change", update);
  form.addEventListener("reset", () => setTimeout(update)); // after the reset has cleared it
  update();
})();
