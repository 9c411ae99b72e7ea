/**
 * The methods each registered route answers, so that a request with a method its path does not
 * take is told `405 method_not_allowed` with an `Allow` header, as HTTP asks, instead of
 * `404 route_not_found`, which sent a developer looking for a typo in the path.
 *
 * @example const allowed = new AllowedMethods(); allowed.add("/v1/members/:id", ["GET"]); allowed.of("/v1/members/m1") // ["GET"]
 */
export class AllowedMethods {
  readonly #routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Records a route as Fastify registers it (`:name` is one path segment, `*` the rest). */
  add(url: string, methods: readonly string[]): void {
    let route = this.#routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.#routes.set(url, route);
    }
    for (const method of methods) route.methods.add(method.toUpperCase());
  }

  /** The methods some route takes at this path, sorted; empty when no route has the path. */
  of(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes.values()) {
      if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
    }
    return [...methods].sort();
  }
}

function patternOf(url: string): RegExp {
  const source = url
    .split("/")
    .map((segment) => {
      if (segment.startsWith(":")) return "[^/]+";
      if (segment === "*") return ".*";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}$`);
}
