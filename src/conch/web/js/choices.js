// What the catalog allows: which models offer a mode, which tiers a model offers in it, which
// durations at a tier; and why the rest cannot be chosen. Pure functions over the catalog
// document conch serves (studio/catalog.json), so the page never holds a copy of its own.

export const MODE_NAMES = {
  "text-to-video": "text to video",
  "image-to-video": "image to video",
  "first-last-frame": "first and last frame",
  "subject-reference": "subject reference",
};

/** The mode the given frames make, as the server decides it. */
export function modeOf({ first, last }) {
  if (last) return "first-last-frame";
  if (first) return "image-to-video";
  return "text-to-video";
}

function list(items) {
  return items.join(", ");
}

function modes(model) {
  return Object.keys(model.matrix);
}

/** Every model, each with whether it offers ``mode`` and, if not, why. */
export function modelChoices(catalog, mode) {
  return catalog.models.map((model) => {
    const allowed = mode in model.matrix;
    const offers = list(modes(model).map((m) => MODE_NAMES[m]));
    return { value: model.name, allowed, reason: allowed ? "" : `offers ${offers} only` };
  });
}

/** Every tier, each allowed or not for ``model`` in ``mode``, with the reason. */
export function resolutionChoices(catalog, model, mode) {
  const tiers = Object.keys(model.matrix[mode]);
  const reason = `${model.name} makes ${MODE_NAMES[mode]} at ${list(tiers)}`;
  return catalog.resolutions.map((tier) => {
    const allowed = tiers.includes(tier);
    return { value: tier, allowed, reason: allowed ? "" : reason };
  });
}

/** Every duration any model offers, in seconds, shortest first. */
export function allDurations(catalog) {
  const seconds = catalog.models.flatMap((model) =>
    Object.values(model.matrix).flatMap((tiers) => Object.values(tiers).flat()),
  );
  return [...new Set(seconds)].sort((a, b) => a - b);
}

/** Every duration, each allowed or not for ``model`` at ``tier``, with the reason. */
export function durationChoices(catalog, model, mode, tier) {
  const durations = model.matrix[mode][tier];
  const allowedText = durations.map((d) => `${d} s`).join(" or ");
  const reason = `${model.name} at ${tier} makes ${allowedText}`;
  return allDurations(catalog).map((seconds) => {
    const allowed = durations.includes(seconds);
    return { value: seconds, allowed, reason: allowed ? "" : reason };
  });
}

function firstAllowed(choices, ...preferred) {
  for (const value of preferred) {
    if (choices.some((c) => c.allowed && c.value === value)) return value;
  }
  const found = choices.find((c) => c.allowed);
  return found ? found.value : null;
}

/**
 * The settings to show for ``mode``: what the person wants where the catalog allows it,
 * otherwise the model's defaults. ``wanted`` is {model, resolution, duration}, any null.
 */
export function settle(catalog, mode, wanted) {
  const models = modelChoices(catalog, mode);
  const name = firstAllowed(models, wanted.model);
  const model = catalog.models.find((m) => m.name === name);
  const tiers = resolutionChoices(catalog, model, mode);
  const tier = firstAllowed(tiers, wanted.resolution, model.default_resolution[mode]);
  const durations = durationChoices(catalog, model, mode, tier);
  const duration = firstAllowed(durations, wanted.duration, catalog.default_duration);
  return { model, tier, duration, choices: { models, tiers, durations } };
}
