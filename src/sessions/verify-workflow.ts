// agent_verify_task workflow (being wired to src/verification).
import type { Envelope } from "./envelope.js";
import { rejection } from "./envelope.js";
import type { CallContext, SessionService } from "./session-service.js";

export interface VerifyInput {
  task: string;
  scope?: string | null;
  evidence_paths: string[];
  fail_closed: boolean;
  wait_seconds?: number;
}

export function verifyInvalid(message: string): Envelope {
  return rejection("verify_task", "verification", { code: "validation_error", message });
}

export async function verifyTask(_service: SessionService, _input: VerifyInput, _ctx: CallContext): Promise<Envelope> {
  return rejection("verify_task", "verification", { code: "not_implemented", message: "verify_task is not wired yet" });
}
