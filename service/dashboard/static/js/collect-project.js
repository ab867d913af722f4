// The project a phone records into: the dashboard's QR code names it beside its token (a token
// limited to that project), and every API path of /collect goes under /v1/projects/{project}/.
// No project: the default one's plain /v1/ paths.
const PROJECT_KEY = "motionlab.collect.project";

export const project = () => localStorage.getItem(PROJECT_KEY) || "";

export function keepProject(chosen) {
  if (chosen) localStorage.setItem(PROJECT_KEY, chosen);
  else localStorage.removeItem(PROJECT_KEY);
}

export const inProject = (path, chosen = project()) =>
  chosen ? `/v1/projects/${encodeURIComponent(chosen)}${path.slice(3)}` : path;
