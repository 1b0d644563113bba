// Live processing status on the film change page and change list: polls the staff JSON
// endpoint every 2 s while some film is pending or processing, without a page reload.
(function () {
  "use strict";
  const INTERVAL_MS = 2000;
  const RUNNING = new Set(["pending", "processing"]);

  function describe(film) {
    if (film.state === "error") return `error — ${film.error}`;
    if (!RUNNING.has(film.state)) return film.state_label.toLowerCase();
    const step = film.step ? ` — ${film.step}` : "";
    const note = film.note ? ` (${film.note})` : "";
    return `${film.state} ${film.percent}%${step}${note}`;
  }

  function render(film) {
    document.querySelectorAll(`[data-film-status="${film.id}"]`).forEach((node) => {
      node.textContent = describe(film);
      node.dataset.state = film.state;
      const bar = node.parentElement && node.parentElement.querySelector("progress");
      if (bar) bar.value = film.percent;
    });
  }

  function watch(url) {
    let timer = null;
    const poll = async () => {
      timer = 0; // a poll is in flight
      const ids = [...new Set([...document.querySelectorAll("[data-film-status]")].map(
        (n) => n.dataset.filmStatus))];
      if (!ids.length) return;
      let running = false;
      try {
        const response = await fetch(`${url}?ids=${ids.join(",")}`, {
          credentials: "same-origin", headers: { Accept: "application/json" },
        });
        if (response.ok) {
          const body = await response.json();
          body.films.forEach(render);
          running = body.films.some((f) => RUNNING.has(f.state));
        } else {
          running = true; // a passing failure: keep trying
        }
      } catch (error) {
        running = true;
      }
      timer = running ? setTimeout(poll, INTERVAL_MS) : null;
    };
    const restart = () => { if (timer === null) poll(); };
    document.addEventListener("affea:source-uploaded", restart);
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-film-status-url]");
    if (root) watch(root.dataset.filmStatusUrl);
  });
})();
