// streamable-http transport (placeholder until the HTTP transport lands).
import type { Runtime } from "../../main.js";

export async function serveHttp(_rt: Runtime, _onClose: () => void): Promise<void> {
  throw new Error("streamable-http is not implemented yet");
}
