// Models: every published recommendation model with its figures, and a button that trains one and
// follows the job until the model is published.
import { h, api, describe, when } from "./lib.js";

export async function modelsView(_, route) {
  const models = await api("/v1/models");
  const status = h("p", { role: "status", id: "train-status" });
  const train = h("button", { type: "button", id: "train" }, "Train a model now");
  train.addEventListener("click", async () => {
    train.disabled = true;
    try {
      let job = await api("/v1/models/train", { method: "POST" });
      const started = Date.now();
      while (job.status === "running") {
        status.textContent = `Training… ${((Date.now() - started) / 1000).toFixed(0)} s (job ${job.jobId})`;
        await new Promise((r) => setTimeout(r, 1000));
        job = await api(`/v1/models/jobs/${encodeURIComponent(job.jobId)}`);
      }
      status.textContent = job.status === "succeeded" ? `Published model ${job.version}.`
        : job.status === "nothing_to_learn" ? "Nothing to learn yet: no interactions in the history."
        : `Training failed: ${job.error}`;
      if (job.status === "succeeded") setTimeout(() => route(), 800);
    } catch (e) {
      status.textContent = describe(e);
    } finally {
      train.disabled = false;
    }
  });
  const figures = [...new Set(models.flatMap((m) => Object.keys(m.evaluation || {})))].sort();
  return [h("h2", {}, "Recommendation models"),
    h("p", {}, train), status,
    models.length
      ? h("table", { id: "models" }, h("thead", {}, h("tr", {}, ["version", "trained", "users", "items", "interactions", "training s", ...figures, ""].map((c, i) => h("th", { class: i > 1 ? "num" : null }, c)))),
        h("tbody", {}, models.map((m) => h("tr", {}, h("td", {}, h("code", {}, m.version)), h("td", {}, when(m.createdAt)),
          h("td", { class: "num" }, m.users.toLocaleString()), h("td", { class: "num" }, m.items.toLocaleString()), h("td", { class: "num" }, m.interactions.toLocaleString()),
          h("td", { class: "num" }, m.trainingSeconds.toFixed(1)), ...figures.map((f) => h("td", { class: "num" }, m.evaluation?.[f] === undefined ? "—" : m.evaluation[f].toFixed(4))),
          h("td", {}, m.current ? h("span", { class: "badge" }, "serving") : "")))))
      : h("p", { class: "muted" }, "No model yet: train one, or wait for the scheduled training."),
    h("p", { class: "muted" }, "Figures: precision@10 and NDCG@10 of the model on a 20 % hold-out of the history when it was trained, and popularity's on the same split for comparison; the served path is the same scorer (docs/recommendations.md).")];
}
