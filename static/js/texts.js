// What people read for the app's fixed values, as the server words them: category labels and
// known issues' states (helpdesk/domain/labels.py) and activity-feed lines
// (helpdesk/domain/activity.py), read from the page once so that what arrives live reads
// exactly as what the server rendered.

const TEXTS = JSON.parse(document.getElementById("page-texts")?.textContent || "{}");
const FIELD = /\{([a-z_.]+)(?:\|([^}]*))?\}/g;

export function categoryLabel(category) {
  return TEXTS.categories?.[category] ?? category;
}

export function knownIssueStatus(status) {
  return TEXTS.known_issue_statuses?.[status] ?? status;
}

// `{a.b}` is the event data's field a.b; `{a.b|text}` says what stands there when it is empty.
export function feedLine(kind, data) {
  const text = TEXTS.feed?.[kind];
  if (!text) return kind;
  const line = text.replace(FIELD, (_, path, blank) => {
    const value = path.split(".").reduce((at, name) => (at && typeof at === "object" ? at[name] : undefined), data);
    return value ? String(value) : (blank ?? "");
  });
  return line.slice(0, TEXTS.feed_length);
}
