import http from "node:http";

/** A response as the bench sees it: the status and the raw body (parsed only when needed). */
export interface RawResponse {
  status: number;
  text: string;
}

/**
 * A keep-alive HTTP/1.1 client for one origin with at most `connections` sockets, so N concurrent
 * callers reuse N connections the way N tills would. Plain `node:http`: no dependency, and cheap
 * enough that the load generator leaves the cores to the server and the database.
 *
 * @example const api = new HttpClient("http://127.0.0.1:3000", 16); await api.post("/v1/members", body, token)
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(origin: string, connections: number) {
    const url = new URL(origin);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  post(path: string, body: unknown, token?: string): Promise<RawResponse> {
    return this.send("POST", path, JSON.stringify(body), token);
  }

  get(path: string, token?: string): Promise<RawResponse> {
    return this.send("GET", path, undefined, token);
  }

  /** Posts and parses the JSON answer; any other status than `expected` is an error naming the body. */
  async postJson<T>(path: string, body: unknown, token?: string, expected = 201): Promise<T> {
    const res = await this.post(path, body, token);
    if (res.status !== expected) throw new Error(`POST ${path} → ${res.status}: ${res.text}`);
    return JSON.parse(res.text) as T;
  }

  close(): void {
    this.agent.destroy();
  }

  private send(
    method: string,
    path: string,
    payload: string | undefined,
    token?: string,
  ): Promise<RawResponse> {
    const headers: Record<string, string | number> = {};
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method, path, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}
