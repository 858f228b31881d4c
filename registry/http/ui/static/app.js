// Modelog UI: a little progressive enhancement; every page works without it.
"use strict";

// The timeline: the focused or hovered segment's tooltip, also in a live region (keyboard users
// and screen readers get what a mouse's hover shows).
function wireTimeline() {
  const detail = document.getElementById("timeline-detail");
  if (!detail) return;
  for (const g of document.querySelectorAll("svg.timeline g.segment, svg.timeline g.mark")) {
    const title = g.querySelector("title");
    const show = () => { detail.textContent = title ? title.textContent : ""; };
    g.addEventListener("focus", show);
    g.addEventListener("mouseenter", show);
  }
}

// The as-of slider: its stops are the model's events; moving it fills in the position and shows
// which event it is; letting go of it with the pointer (or pressing Enter) shows the model then.
function wireSlider() {
  const slider = document.getElementById("as-of-slider");
  if (!slider) return;
  const positions = slider.dataset.positions.split(",");
  const labels = JSON.parse(slider.dataset.labels);
  const field = document.getElementById("as-of");
  const out = document.getElementById("as-of-label");
  let pointer = false;
  const update = () => {
    const i = Number(slider.value);
    out.textContent = `position ${positions[i]} · ${labels[i] || ""}`;
    return i;
  };
  update();
  slider.addEventListener("pointerdown", () => { pointer = true; });
  slider.addEventListener("input", () => { field.value = positions[update()]; });
  slider.addEventListener("change", () => {
    field.value = positions[update()];
    if (pointer) slider.form.submit();
    pointer = false;
  });
  slider.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); field.value = positions[update()]; slider.form.submit(); }
  });
}

document.addEventListener("DOMContentLoaded", () => { wireTimeline(); wireSlider(); });
