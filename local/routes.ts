// Route templates as the Functions host reads them: "runs/{id}", "runs/{id?}", "{id:int}" (the
// constraint is checked), "files/{*path}" (catch-all).
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/, long: /^-?\d+$/, bool: /^(true|false)$/i, guid: /^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i, datetime: /^\d{4}-\d{2}-\d{2}/, double: /^-?\d+(\.\d+)?$/, float: /^-?\d+(\.\d+)?$/, decimal: /^-?\d+(\.\d+)?$/,
};

export function compileRoute(template: string): CompiledRoute {
  const segments = template.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
  const parsed = segments.map((seg) => {
    const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(\?)?(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(seg);
    if (!m) return { literal: seg.toLowerCase() };
    return { name: m[2], catchAll: Boolean(m[1]), optional: Boolean(m[3] || m[5]), constraint: m[4]?.toLowerCase() };
  });
  return {
    template,
    match(path: string) {
      const parts = path.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
      const params: Record<string, string> = {};
      let i = 0;
      for (const seg of parsed) {
        if ('literal' in seg) {
          if ((parts[i] ?? '').toLowerCase() !== seg.literal) return undefined;
          i++;
          continue;
        }
        if (seg.catchAll) {
          params[seg.name!] = parts.slice(i).map(decodeURIComponent).join('/');
          i = parts.length;
          continue;
        }
        const value = parts[i];
        if (value === undefined) {
          if (seg.optional) continue;
          return undefined;
        }
        const decoded = decodeURIComponent(value);
        const rule = seg.constraint ? CONSTRAINTS[seg.constraint] : undefined;
        if (rule && !rule.test(decoded)) return undefined;
        params[seg.name!] = decoded;
        i++;
      }
      return i === parts.length ? params : undefined;
    },
  };
}
