// JSON calls to /api/v1 from the pages; errors come back as values, never thrown at the UI.

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, options);
  } catch {
    return { ok: false, status: 0, error: { code: "offline", detail: "you seem to be offline; try again" } };
  }
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    return { ok: false, status: 401, error: { code: "unauthenticated", detail: "sign in again" } };
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return { ok: true, status: response.status, data };
  return {
    ok: false,
    status: response.status,
    data,
    error: (data && data.error) || { code: "error", detail: `the server answered ${response.status}` },
  };
}

export function sentence(detail) {
  return detail ? `${detail[0].toUpperCase()}${detail.slice(1)}.`.replace(/\.\.$/, ".") : "";
}
