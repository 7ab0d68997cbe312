// stdio transport: the process's stdin/stdout carry MCP; the server ends when stdin closes.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

export async function serveStdio(server: Server, onClose: () => void): Promise<void> {
  const transport = new StdioServerTransport();
  transport.onclose = onClose;
  process.stdin.on("end", onClose);
  await server.connect(transport);
}
