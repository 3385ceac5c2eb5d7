import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
var __webpack_exports__ = {};

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: ./lib/state.js
/** The names of the variables the post step must clear (JSON array), saved before anything is exported. */
const STATE_EXPORTED_ENV = 'exportedEnv';
/** The folder of 0600 secret files the post step must remove. */
const STATE_FILES_DIR = 'filesDir';
/** Every folder this action creates starts with this, so the post step never removes anything else. */
const FILES_DIR_PREFIX = 'keyfence-fetch-';

;// CONCATENATED MODULE: ./lib/cleanup.js



function exportedNames(raw) {
    if (raw === '')
        return [];
    try {
        const parsed = JSON.parse(raw);
        return Array.isArray(parsed) ? parsed.filter((name) => typeof name === 'string') : [];
    }
    catch {
        return [];
    }
}
/** The post step: empties every variable the main step exported and removes its secret files. */
function cleanup(runner) {
    const names = exportedNames(runner.state(STATE_EXPORTED_ENV));
    // An empty value is what later steps (other actions' post steps) see: the secret is gone from the job's env.
    for (const name of names)
        runner.exportVariable(name, '');
    const dir = runner.state(STATE_FILES_DIR);
    // Only ever remove a folder this action created.
    if (dir !== '' && (0,external_node_path_namespaceObject.basename)(dir).startsWith(FILES_DIR_PREFIX))
        (0,external_node_fs_namespaceObject.rmSync)(dir, { recursive: true, force: true });
    runner.info(`keyfence cleanup: cleared ${names.length} variable(s)${dir === '' ? '' : ' and removed the secret files'}.`);
}

;// CONCATENATED MODULE: ../packages/core/dist/errors.js
/** Stable machine-readable error codes; scripts and docs match on these, so never rename one. */
const ErrorCode = {
    CONFIG_INVALID: 'CONFIG_INVALID',
    USAGE: 'USAGE',
    INPUT_NOT_FOUND: 'INPUT_NOT_FOUND',
    INPUT_UNREADABLE: 'INPUT_UNREADABLE',
    RULE_INVALID: 'RULE_INVALID',
    BASELINE_INVALID: 'BASELINE_INVALID',
    INTERNAL: 'INTERNAL',
};
/** Exit code for errors the user can fix (bad config, bad arguments, missing input). */
const USER_ERROR_EXIT_CODE = 2;
/** The CLI's spelling (`--id`): the default wherever a front end does not name settings itself. */
const FLAG_NAMES = {
    name: (setting) => `--${setting}`,
    set: (setting, value) => `pass --${setting} ${value}`,
};
/** An expected failure caused by the user's input or environment, reported without a stack trace. */
class KeyfenceError extends Error {
    name = 'KeyfenceError';
    code;
    exitCode;
    #hint;
    constructor(code, message, options = {}) {
        super(message, options);
        this.code = code;
        const { hint } = options;
        this.#hint = typeof hint === 'function' ? hint : undefined;
        if (hint !== undefined)
            this.hint = typeof hint === 'function' ? hint(FLAG_NAMES) : hint;
        this.exitCode = options.exitCode ?? USER_ERROR_EXIT_CODE;
    }
    /** The hint in the words of a front end that names settings its own way. */
    hintFor(names) {
        return this.#hint ? this.#hint(names) : this.hint;
    }
}
/** A bug in keyfence itself (a broken invariant), as opposed to a problem with the user's input. */
class InternalError extends (/* unused pure expression or super */ null && (Error)) {
    name = 'InternalError';
    code = ErrorCode.INTERNAL;
}
/** True when the error is an expected, user-facing KeyfenceError. */
function isKeyfenceError(error) {
    return error instanceof KeyfenceError;
}
function describeThrown(value) {
    if (typeof value === 'string')
        return value;
    try {
        return String(value);
    }
    catch {
        // e.g. Object.create(null) has no toString; the error still has to be reported somehow.
        return Object.prototype.toString.call(value);
    }
}
/** Turns anything thrown into a printable report: user errors without a stack, everything else (bugs) with one. */
function formatUserError(error, names = FLAG_NAMES) {
    if (isKeyfenceError(error)) {
        const formatted = { message: error.message, code: error.code };
        const hint = error.hintFor(names);
        if (hint !== undefined)
            formatted.hint = hint;
        return formatted;
    }
    if (error instanceof Error) {
        const formatted = { message: error.message || error.name, code: ErrorCode.INTERNAL };
        if (error.stack !== undefined)
            formatted.stack = error.stack;
        return formatted;
    }
    return { message: describeThrown(error), code: ErrorCode.INTERNAL };
}
//# sourceMappingURL=errors.js.map
;// CONCATENATED MODULE: external "node:http"
const external_node_http_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");
;// CONCATENATED MODULE: external "node:https"
const external_node_https_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:https");
;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: external "node:tls"
const external_node_tls_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:tls");
;// CONCATENATED MODULE: ../packages/core/dist/net/proxy.js




function firstSet(env, ...names) {
    for (const name of names) {
        const value = env[name]?.trim();
        if (value)
            return value;
    }
    return undefined;
}
/** Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case; the lower-case name wins, as in curl). */
function proxySettingsFromEnv(env) {
    const settings = {
        noProxy: (firstSet(env, 'no_proxy', 'NO_PROXY') ?? '')
            .split(/[\s,]+/)
            .map((entry) => entry.trim().toLowerCase())
            .filter((entry) => entry.length > 0),
    };
    const httpProxy = firstSet(env, 'http_proxy', 'HTTP_PROXY');
    const httpsProxy = firstSet(env, 'https_proxy', 'HTTPS_PROXY');
    if (httpProxy !== undefined)
        settings.httpProxy = httpProxy;
    if (httpsProxy !== undefined)
        settings.httpsProxy = httpsProxy;
    return settings;
}
function stripBrackets(host) {
    return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
/** True when NO_PROXY says to reach host:port directly: `*`, an exact host, a domain suffix, with an optional port. */
function bypassesProxy(host, port, noProxy) {
    const target = stripBrackets(host.toLowerCase()).replace(/\.$/, '');
    for (const raw of noProxy) {
        if (raw === '*')
            return true;
        let entry = raw;
        let entryPort;
        const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
        // An IPv6 literal without brackets is all colons; only split a port off bracketed or non-IPv6 entries.
        if (portMatch?.[1] !== undefined && (entry.startsWith('[') || !portMatch[1].includes(':'))) {
            entry = portMatch[1];
            entryPort = Number(portMatch[2]);
        }
        if (entryPort !== undefined && entryPort !== port)
            continue;
        entry = stripBrackets(entry).replace(/^\*?\./, '');
        if (entry === '')
            continue;
        if (target === entry || target.endsWith(`.${entry}`))
            return true;
    }
    return false;
}
const MAX_PROXY_HEADER_BYTES = 16 * 1024;
const PROXY_CONNECT_TIMEOUT_MS = 15_000;
/** Opens a CONNECT tunnel through the proxy to host:port and resolves with the raw socket. */
function openTunnel(proxy, host, port) {
    return new Promise((resolve, reject) => {
        const secureProxy = proxy.protocol === 'https:';
        const proxyPort = Number(proxy.port) || (secureProxy ? 443 : 80);
        const proxyHost = stripBrackets(proxy.hostname);
        const socket = secureProxy
            ? external_node_tls_namespaceObject.connect({
                host: proxyHost,
                port: proxyPort,
                ...(external_node_net_namespaceObject.isIP(proxyHost) === 0 ? { servername: proxyHost } : {}),
            })
            : external_node_net_namespaceObject.connect({ host: proxyHost, port: proxyPort });
        const target = `${external_node_net_namespaceObject.isIPv6(host) ? `[${host}]` : host}:${port}`;
        const fail = (error) => {
            socket.destroy();
            reject(error);
        };
        let received = Buffer.alloc(0);
        const onData = (chunk) => {
            received = Buffer.concat([received, chunk]);
            const end = received.indexOf('\r\n\r\n');
            if (end === -1) {
                if (received.length > MAX_PROXY_HEADER_BYTES)
                    fail(new Error(`proxy ${proxy.host} sent an oversized answer`));
                return;
            }
            socket.off('data', onData);
            socket.off('error', fail);
            socket.setTimeout(0);
            const status = /^HTTP\/1\.[01] (\d{3})/.exec(received.subarray(0, end).toString('latin1'))?.[1];
            if (status !== '200') {
                fail(new Error(`proxy ${proxy.host} refused to tunnel to ${target}: HTTP ${status ?? '(no status)'}`));
                return;
            }
            // Bytes after the proxy's answer already belong to the tunnelled connection.
            if (received.length > end + 4)
                socket.unshift(received.subarray(end + 4));
            resolve(socket);
        };
        socket.once(secureProxy ? 'secureConnect' : 'connect', () => {
            const credentials = proxy.username === ''
                ? ''
                : `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`;
            socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${credentials}\r\n`);
        });
        socket.on('data', onData);
        socket.on('error', fail);
        socket.setTimeout(PROXY_CONNECT_TIMEOUT_MS, () => fail(new Error(`proxy ${proxy.host} did not answer in time`)));
    });
}
function targetOf(options, defaultPort) {
    const host = stripBrackets(options.hostname ?? options.host ?? 'localhost');
    return { host, port: Number(options.port) || defaultPort };
}
/** Tunnels plain-HTTP requests through the proxy with CONNECT (as curl does for https), or goes direct for NO_PROXY hosts. */
class TunnellingHttpAgent extends external_node_http_namespaceObject.Agent {
    proxy;
    noProxy;
    constructor(proxy, noProxy, options) {
        super(options);
        this.proxy = proxy;
        this.noProxy = noProxy;
    }
    createConnection(options, callback) {
        const { host, port } = targetOf(options, 80);
        if (bypassesProxy(host, port, this.noProxy))
            return external_node_net_namespaceObject.connect({ host, port });
        openTunnel(this.proxy, host, port).then((socket) => callback?.(null, socket), (error) => callback?.(error, undefined));
        return undefined;
    }
}
/** Tunnels HTTPS requests through the proxy with CONNECT and starts TLS inside the tunnel; direct for NO_PROXY hosts. */
class TunnellingHttpsAgent extends external_node_https_namespaceObject.Agent {
    proxy;
    noProxy;
    constructor(proxy, noProxy, options) {
        super(options);
        this.proxy = proxy;
        this.noProxy = noProxy;
    }
    createConnection(options, callback) {
        const { host, port } = targetOf(options, 443);
        const servername = options.servername ?? (external_node_net_namespaceObject.isIP(host) === 0 ? host : undefined);
        const tlsOptions = { ...options, host, port };
        if (servername !== undefined)
            tlsOptions.servername = servername;
        if (bypassesProxy(host, port, this.noProxy))
            return external_node_tls_namespaceObject.connect(tlsOptions);
        openTunnel(this.proxy, host, port).then((socket) => callback?.(null, external_node_tls_namespaceObject.connect({ ...tlsOptions, socket })), (error) => callback?.(error, undefined));
        return undefined;
    }
}
function proxyUrl(value) {
    // `HTTPS_PROXY=proxy:3128` without a scheme is common; curl reads it as http://.
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
}
/**
 * Builds proxy agents from the environment; a target scheme without a proxy variable gets no agent
 * (direct). Keep-alive agents hold sockets open: whoever asks for them destroys them when done.
 */
function proxy_proxyAgentsFromEnv(env, options = {}) {
    const settings = proxySettingsFromEnv(env);
    const agentOptions = { keepAlive: options.keepAlive ?? false };
    const agents = {};
    if (settings.httpProxy !== undefined) {
        agents.httpAgent = new TunnellingHttpAgent(proxyUrl(settings.httpProxy), settings.noProxy, agentOptions);
    }
    if (settings.httpsProxy !== undefined) {
        agents.httpsAgent = new TunnellingHttpsAgent(proxyUrl(settings.httpsProxy), settings.noProxy, agentOptions);
    }
    return agents;
}
//# sourceMappingURL=proxy.js.map
;// CONCATENATED MODULE: ../packages/core/dist/net/http.js



/** No HTTP response at all: refused, reset, timed out, DNS. Always worth a retry. */
class HttpTransportError extends Error {
    name = 'HttpTransportError';
    code;
    constructor(message, code, options) {
        super(message, options);
        this.code = code;
    }
}
const DEFAULT_TIMEOUT_MS = 30_000;
// A JSON API answer is small; a response this large is a misrouted request, not data.
const MAX_RESPONSE_BYTES = (/* unused pure expression or super */ null && (16 * 1024 * 1024));
/** An HttpSend over node:http(s) that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY from env. */
function createHttpSend(env) {
    const agents = proxyAgentsFromEnv(env);
    return (request) => new Promise((resolve, reject) => {
        const secure = request.url.protocol === 'https:';
        const agent = secure ? agents.httpsAgent : agents.httpAgent;
        const options = {
            method: request.method ?? 'GET',
            headers: {
                ...(request.body === undefined
                    ? {}
                    : { 'content-length': String(Buffer.byteLength(request.body)) }),
                ...request.headers,
            },
            timeout: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        };
        if (agent !== undefined)
            options.agent = agent;
        const req = (secure ? https : http).request(request.url, options, (res) => {
            const chunks = [];
            let size = 0;
            res.on('data', (chunk) => {
                size += chunk.length;
                if (size > MAX_RESPONSE_BYTES) {
                    req.destroy(new HttpTransportError(`response from ${request.url.host} is too large`, 'ETOOLARGE'));
                    return;
                }
                chunks.push(chunk);
            });
            res.on('end', () => resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString('utf8'),
            }));
            res.on('error', (error) => reject(transportError(request.url, error)));
        });
        req.on('timeout', () => req.destroy(new HttpTransportError(`timed out talking to ${request.url.host}`, 'ETIMEDOUT')));
        req.on('error', (error) => reject(transportError(request.url, error)));
        req.end(request.body);
    });
}
function transportError(url, error) {
    if (error instanceof HttpTransportError)
        return error;
    const code = error.code;
    // The message names the host only: a URL's query could carry a token one day.
    return new HttpTransportError(`could not reach ${url.host}: ${code ?? error.message}`, code, {
        cause: error,
    });
}
/** Parses a JSON body, or returns undefined when it is not JSON. */
function parseJsonBody(response) {
    try {
        return JSON.parse(response.body);
    }
    catch {
        return undefined;
    }
}
//# sourceMappingURL=http.js.map
;// CONCATENATED MODULE: external "node:timers/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: ../packages/core/dist/retry.js

const DEFAULT_BASE_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 10_000;
function requireNonNegative(name, value, integer = false) {
    if (!(value >= 0) || (integer ? !Number.isInteger(value) : !Number.isFinite(value))) {
        throw new RangeError(`retry: ${name} must be a non-negative ${integer ? 'integer' : 'finite number'}`);
    }
}
/** Computes the full-jitter backoff ceiling for the given 0-based failed attempt. */
function backoffCeiling(attempt, baseDelayMs, maxDelayMs) {
    const exponential = baseDelayMs * 2 ** attempt;
    // 2 ** attempt reaches Infinity for huge attempt counts; 0 * Infinity is NaN, and a zero base means no wait.
    return Number.isNaN(exponential) ? 0 : Math.min(maxDelayMs, exponential);
}
/** Calls fn (with its 0-based attempt number) until it succeeds, retrying retryable failures with full-jitter exponential backoff. */
async function retry(fn, opts) {
    const baseDelayMs = opts.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    const maxDelayMs = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    requireNonNegative('retries', opts.retries, true);
    requireNonNegative('baseDelayMs', baseDelayMs);
    requireNonNegative('maxDelayMs', maxDelayMs);
    if (opts.timeoutMs !== undefined)
        requireNonNegative('timeoutMs', opts.timeoutMs);
    const sleep = opts.sleep ?? ((ms) => delay(ms));
    const random = opts.random ?? Math.random;
    // performance.now rather than Date.now: a wall-clock adjustment must not stretch or cut the deadline.
    const now = opts.now ?? (() => performance.now());
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + opts.timeoutMs;
    for (let attempt = 0;; attempt++) {
        try {
            return await fn(attempt);
        }
        catch (error) {
            if (attempt >= opts.retries || !opts.isRetryable(error))
                throw error;
            // Full jitter (a uniform draw up to the ceiling) spreads out clients that failed together,
            // so they don't all come back at the same instant.
            const delayMs = Math.floor(random() * backoffCeiling(attempt, baseDelayMs, maxDelayMs));
            // Sleeping into the deadline would leave no time for the attempt; the caller is better
            // served by the real failure now than by the same failure later.
            if (now() + delayMs >= deadline)
                throw error;
            opts.onRetry?.(error, attempt + 1, delayMs);
            await sleep(delayMs);
        }
    }
}
/** True for HTTP statuses worth retrying: 408 Request Timeout, 429 Too Many Requests and any 5xx. */
function isRetryableHttpStatus(status) {
    return status === 408 || status === 429 || (Number.isInteger(status) && status >= 500 && status <= 599);
}
//# sourceMappingURL=retry.js.map
;// CONCATENATED MODULE: ../packages/core/dist/masking.js
// The GitHub runner masks a registered string only where it appears verbatim in a log line.
// A multi-line secret is printed one line at a time, a JSON secret is usually printed field by
// field, and encoded copies look nothing like the original, so each of those forms has to be
// registered on its own.
// Lines of two or three characters are kept: they are typically the tail of a wrapped base64
// body (a PEM key, a JSON-escaped certificate) and still carry key material. Masking them costs
// some log noise, which is cheaper than a leak. A single character is dropped: masking it would
// star out that character throughout the whole log while hiding almost no information.
const MIN_LINE_LENGTH = 2;
// Short lines are not worth their base64 form: the encoding of a 2-7 character fragment is a
// short string that would match unrelated base64 in the log far more often than the secret.
const MIN_LINE_LENGTH_FOR_BASE64 = 8;
function base64(text) {
    return Buffer.from(text, 'utf8').toString('base64');
}
function base64url(text) {
    return Buffer.from(text, 'utf8').toString('base64url');
}
function maskableLines(text) {
    // Splitting on a lone '\r' as well as '\n' means no line keeps a stray '\r', whatever the line endings.
    return text.split(/\r\n|\r|\n/).filter((line) => line.length >= MIN_LINE_LENGTH);
}
function parseJsonContainer(text) {
    const start = text.trimStart()[0];
    // Scalars are excluded: the value itself is already masked, and parsing every secret that
    // happens to look like a number would only add noise.
    if (start !== '{' && start !== '[')
        return undefined;
    try {
        const parsed = JSON.parse(text);
        return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    }
    catch {
        return undefined;
    }
}
function jsonLeaves(root) {
    const leaves = [];
    // An explicit stack instead of recursion, so a deeply nested document can't overflow the call stack.
    const pending = [root];
    while (pending.length > 0) {
        const node = pending.pop();
        if (typeof node === 'string') {
            leaves.push(node);
        }
        else if (typeof node === 'number') {
            leaves.push(String(node));
        }
        else if (typeof node === 'object' && node !== null) {
            // Keys are not masked: they name the fields ("password", "token") and masking them would
            // garble ordinary log output without protecting anything.
            pending.push(...Object.values(node));
        }
    }
    return leaves;
}
/** Every string the runner must mask so the value cannot leak verbatim, line by line, as JSON fields, or encoded; longest first. */
function maskingForms(value) {
    const forms = new Set([value]);
    if (/[\r\n]/.test(value)) {
        for (const line of maskableLines(value)) {
            forms.add(line);
            if (line.length >= MIN_LINE_LENGTH_FOR_BASE64)
                forms.add(base64(line));
        }
    }
    const json = parseJsonContainer(value);
    if (json !== undefined) {
        for (const leaf of jsonLeaves(json)) {
            if (leaf.length >= MIN_LINE_LENGTH)
                forms.add(leaf);
            for (const line of maskableLines(leaf))
                forms.add(line);
        }
    }
    if (value.length > 0) {
        forms.add(base64(value));
        forms.add(base64url(value));
        forms.add(encodeURIComponent(value));
    }
    forms.delete('');
    // Longest first so that a tool replacing forms one after another never breaks up a longer
    // form by masking a shorter one inside it first. Array#sort is stable, so ties keep insertion order.
    return [...forms].sort((a, b) => b.length - a.length);
}
//# sourceMappingURL=masking.js.map
;// CONCATENATED MODULE: ../packages/core/dist/runner/render.js
// How text that keyfence did not write (file names, archive entries, image refs, authors, rule
// descriptions from a config, messages quoting input) is made safe for a runner's log.
//
// The runner reads stdout and stderr line by line, splitting on CR, LF and CRLF. A line whose
// text, after leading whitespace is trimmed, starts with `::` is a workflow command; a line that
// contains `##[` anywhere may be a legacy one. So, visibly and reversibly for a reader:
// - control characters (CR, LF, tab, ESC, C1, U+2028/9) become `\r`, `\n`, `\t`, `\xNN`, `\uNNNN`:
//   an untrusted field is always one line, and cannot restyle a terminal either;
// - `##[` becomes `#\#[`;
// - a line (or field) whose first non-blank characters are `::` gets a `\` before them: `\::`.
// Leading whitespace as either side counts it: JavaScript's \s and .NET's char.IsWhiteSpace
// differ on U+0085, U+001C-U+001F, U+180E and U+FEFF, so the union is trimmed.
const LEADING_BLANK = /^[\s\u0085\u001c-\u001f\u180e]*/;
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function visibleControl(ch) {
    const named = NAMED[ch];
    if (named !== undefined)
        return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
}
/** `##[` anywhere becomes `#\#[`: no legacy command or log-viewer marker survives. */
function neutraliseLegacyMarkers(text) {
    return text.replaceAll('##[', '#\\#[');
}
/** A `\` before a leading `::` (after any blanks), so the line cannot be read as a workflow command. */
function neutraliseLeadingCommand(line) {
    const blank = LEADING_BLANK.exec(line)?.[0] ?? '';
    return line.startsWith('::', blank.length) ? `${blank}\\${line.slice(blank.length)}` : line;
}
/** True when the runner would try to read this one line as a workflow command (new or legacy form). */
function looksLikeCommand(line) {
    const blank = LEADING_BLANK.exec(line)?.[0] ?? '';
    return line.startsWith('::', blank.length) || line.includes('##[');
}
/** An untrusted value as one safe line of log text: controls visible, no `##[`, no leading `::`. */
function renderUntrusted(value) {
    return neutraliseLeadingCommand(neutraliseLegacyMarkers(value.replace(CONTROL, visibleControl)));
}
/** Any text bound for the log, line by line: no line can start a command and no `##[` survives. Lines end in LF. */
function render_neutraliseLines(text) {
    return text
        .split(/\r\n|\r|\n/)
        .map((line) => neutraliseLeadingCommand(neutraliseLegacyMarkers(line)))
        .join('\n');
}
/**
 * JSON bound for the log: `#` before `[` is written `\u0023`, which any JSON reader decodes back.
 * Pretty-printed JSON cannot start a line with `::` (strings hold no raw newline), so `##[` is all
 * that needs care.
 */
function render_neutraliseJson(json) {
    return json.replaceAll('#[', '\\u0023[');
}
//# sourceMappingURL=render.js.map
;// CONCATENATED MODULE: ../packages/core/dist/runner/commands.js


// Workflow commands, built only here. The runner unescapes %25, %0D and %0A in the data, and
// also %3A and %2C in property values (`:` would end the property list, `,` would split it).
/** Escapes a workflow command's data (after the second `::`). */
function escapeCommandData(text) {
    return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
/** Escapes a workflow command's property value. */
function escapeCommandProperty(text) {
    return escapeCommandData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}
const PROPERTY_NAMES = {
    title: 'title',
    file: 'file',
    startLine: 'line',
    endLine: 'endLine',
    startColumn: 'col',
    endColumn: 'endColumn',
};
/** One `::name k=v,k=v::data` line (no line break): name is keyfence's own, properties and data escaped. */
function workflowCommand(name, properties, data) {
    const props = Object.entries(properties)
        .map(([key, value]) => `${key}=${escapeCommandProperty(value)}`)
        .join(',');
    return `::${name}${props ? ` ${props}` : ''}::${escapeCommandData(data)}`;
}
/**
 * An annotation command. The message and title are display text: `##[` in them is neutralised.
 * A file name holding `##[` cannot be named exactly without leaving `##[` in the log, so such an
 * annotation is not pinned: the rendered path and line go into the message instead.
 */
function annotationCommand(level, message, properties = {}) {
    let text = neutraliseLegacyMarkers(message);
    let pinned = properties;
    if (properties.file?.includes('##[')) {
        const { file, startLine, endLine, startColumn, endColumn, ...rest } = properties;
        text += ` (in ${renderUntrusted(file)}${startLine === undefined ? '' : `:${startLine}`})`;
        pinned = rest;
    }
    const props = {};
    for (const [key, value] of Object.entries(pinned)) {
        if (value === undefined)
            continue;
        props[PROPERTY_NAMES[key]] = key === 'title' ? neutraliseLegacyMarkers(String(value)) : String(value);
    }
    return workflowCommand(level, props, text);
}
/** The `::add-mask::` workflow commands that register every masking form of the value. */
function addMaskCommands(value) {
    return maskingForms(value).map((form) => workflowCommand('add-mask', {}, form));
}
//# sourceMappingURL=commands.js.map
;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
;// CONCATENATED MODULE: ../packages/core/dist/runner/runner.js





/** The heredoc form of a file command, with a random delimiter that cannot occur in name or value. */
function keyValueMessage(name, value) {
    const delimiter = `ghadelimiter_${(0,external_node_crypto_namespaceObject.randomUUID)()}`;
    if (name.includes(delimiter) || value.includes(delimiter)) {
        throw new Error('a value contains the file-command delimiter');
    }
    return `${name}<<${delimiter}${external_node_os_namespaceObject.EOL}${value}${external_node_os_namespaceObject.EOL}${delimiter}${external_node_os_namespaceObject.EOL}`;
}
/** Writes neutralised text lines to a sink (a CLI's stdout or stderr): nothing in it can act as a command. */
function writeText(sink, text) {
    if (text !== '')
        sink.write(neutraliseLines(text));
}
/** Writes a JSON document to a sink with `##[` encoded away; it parses to the same value. */
function writeJson(sink, json) {
    sink.write(neutraliseJson(json));
}
/** The runner of a real job: workflow commands on stdout, file commands in GITHUB_ENV / _OUTPUT / _STATE / _STEP_SUMMARY. */
function createRunner(options = {}) {
    const env = options.env ?? process.env;
    const out = options.out ?? process.stdout;
    const setExitCode = options.setExitCode ??
        ((code) => {
            process.exitCode = code;
        });
    const line = (text) => {
        out.write(`${text}${external_node_os_namespaceObject.EOL}`);
    };
    const masked = new Set();
    const annotate = (level) => (message, properties) => line(annotationCommand(level, message, properties));
    const fileCommand = (variable, name, value) => {
        const path = env[variable];
        // Never fall back to the deprecated stdout commands: that would print the value into the log.
        if (!path)
            throw new Error(`${variable} is not set: this action must run as a GitHub Actions step.`);
        (0,external_node_fs_namespaceObject.appendFileSync)(path, keyValueMessage(name, value), { encoding: 'utf8' });
    };
    const error = annotate('error');
    return {
        input: (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim(),
        mask: (secret) => {
            for (const command of addMaskCommands(secret.reveal())) {
                if (masked.has(command))
                    continue;
                masked.add(command);
                line(command);
            }
        },
        info: (message) => line(render_neutraliseLines(message)),
        untrusted: (text) => line(render_neutraliseLines(text)),
        debug: (message) => line(workflowCommand('debug', {}, neutraliseLegacyMarkers(message))),
        startGroup: (title) => line(workflowCommand('group', {}, neutraliseLegacyMarkers(title))),
        endGroup: () => line(workflowCommand('endgroup', {}, '')),
        notice: annotate('notice'),
        warning: annotate('warning'),
        error,
        setFailed: (message) => {
            setExitCode(1);
            error(message);
        },
        exportVariable: (name, value) => fileCommand('GITHUB_ENV', name, value),
        setOutput: (name, value) => fileCommand('GITHUB_OUTPUT', name, value),
        saveState: (name, value) => fileCommand('GITHUB_STATE', name, value),
        state: (name) => env[`STATE_${name}`] ?? '',
        appendSummary: (markdown) => {
            const path = env['GITHUB_STEP_SUMMARY'];
            if (path)
                (0,external_node_fs_namespaceObject.appendFileSync)(path, `${markdown}${external_node_os_namespaceObject.EOL}`, { encoding: 'utf8' });
        },
    };
}
//# sourceMappingURL=runner.js.map
;// CONCATENATED MODULE: ../packages/core/dist/runner/index.js



//# sourceMappingURL=index.js.map
;// CONCATENATED MODULE: ../packages/core/dist/secret.js

/** Placeholder printed wherever a secret would otherwise be rendered. */
const REDACTED = '[REDACTED]';
const DEFAULT_PREVIEW_CHARS = 4;
// A preview may show at most one character in five, so a short secret
// (a PIN, a 6-char password) gives away almost nothing through its preview.
const PREVIEW_DIVISOR = 5;
// scrypt at 4 MiB and some milliseconds per distinct secret, as an interactive login: every guess a reader
// of a report tests costs the same, on hardware built for hashing or not.
const SCRYPT = { N: 1 << 12, r: 8, p: 1, maxmem: 32 * 1024 * 1024 };
const LENGTH_CLASSES = [8, 16, 32, 64, 128];
function sha256(data) {
    return (0,external_node_crypto_namespaceObject.createHash)('sha256').update(data, 'utf8').digest();
}
/**
 * A secret string that redacts itself on every implicit printing path
 * (string coercion, JSON, util.inspect / console.log); `reveal()` is the only way out.
 */
class SecretValue {
    // A #private field is invisible to util.inspect, JSON, spread, Object.keys and structuredClone,
    // unlike a TypeScript `private` property, which is an ordinary enumerable property at runtime.
    #value;
    constructor(value) {
        this.#value = value;
    }
    /** Wraps a plain string as a SecretValue. */
    static of(value) {
        return new SecretValue(value);
    }
    /** Length of the secret in UTF-16 code units; safe to log. */
    get length() {
        return this.#value.length;
    }
    /** Returns the plain secret; every call site is a deliberate, greppable disclosure point. */
    reveal() {
        return this.#value;
    }
    /** Redacted placeholder, so template literals, String() and `%s` never show the value. */
    toString() {
        return REDACTED;
    }
    /** Redacted placeholder, so JSON.stringify never serialises the value. */
    toJSON() {
        return REDACTED;
    }
    /** Redacted placeholder, so `+` and other default-hint coercions never show the value. */
    valueOf() {
        return REDACTED;
    }
    /** Redacted placeholder for util.inspect, console.log and `%o` / `%O`. */
    [Symbol.for('nodejs.util.inspect.custom')]() {
        return REDACTED;
    }
    /** Short preview for humans: the first min(prefixChars, floor(length / 5)) characters, then '…'. */
    redacted(prefixChars = DEFAULT_PREVIEW_CHARS) {
        const requested = Number.isFinite(prefixChars) ? Math.max(0, Math.floor(prefixChars)) : 0;
        let shown = Math.min(requested, Math.floor(this.#value.length / PREVIEW_DIVISOR));
        // Cutting between the halves of a surrogate pair would print a lone surrogate (mojibake);
        // showing one character less is the safe direction.
        const last = this.#value.charCodeAt(shown - 1);
        if (shown > 0 && last >= 0xd800 && last <= 0xdbff)
            shown -= 1;
        return `${this.#value.slice(0, shown)}…`;
    }
    /**
     * A preview that shows only a public constant of the format: the first of `prefixes` the value
     * starts with (a rule's literal `ghp_`, `AKIA`), else no character at all; then a length class,
     * never the exact length.
     */
    redactedTo(prefixes, ignoreCase = false) {
        const v = ignoreCase ? this.#value.toLowerCase() : this.#value;
        const prefix = prefixes.find((p) => p.length < this.#value.length && v.startsWith(ignoreCase ? p.toLowerCase() : p));
        const shown = prefix === undefined ? '' : this.#value.slice(0, prefix.length);
        const n = this.#value.length;
        const upper = LENGTH_CLASSES.find((c) => n < c);
        const lower = [...LENGTH_CLASSES].reverse().find((c) => n >= c);
        const size = upper === undefined ? `${lower}+` : lower === undefined ? `<${upper}` : `${lower}-${upper - 1}`;
        return `${shown}… (${size} chars)`;
    }
    /**
     * Keyed digest (HMAC-SHA256, hex) of the value in a context such as `fingerprint/v2` plus a
     * rule id: without the key, nobody can test a guess against it. Parts are NUL-separated so no
     * two contexts collide.
     */
    keyedHash(key, context) {
        return (0,external_node_crypto_namespaceObject.createHmac)('sha256', key)
            .update(['keyfence', ...context, this.#value].join('\0'), 'utf8')
            .digest('hex');
    }
    /**
     * Slow, memory-hard digest (scrypt, hex) with a stable salt, for when no key is set: stable
     * across runs, yet every guess costs a full scrypt.
     */
    slowHash(context) {
        return (0,external_node_crypto_namespaceObject.scryptSync)(this.#value, ['keyfence', ...context].join('\0'), 32, SCRYPT).toString('hex');
    }
    /** Constant-time comparison with another SecretValue. */
    equals(other) {
        if (!(other instanceof SecretValue))
            return false;
        // Comparing fixed-length digests keeps the timing independent of where the strings differ
        // and of their lengths, which timingSafeEqual on the raw bytes could not (it throws on a length mismatch).
        return (0,external_node_crypto_namespaceObject.timingSafeEqual)(sha256(this.#value), sha256(other.#value));
    }
    /**
     * Unsalted sha256 hex of `namespace:value`, the v1 fingerprint. Anyone can test a guess against
     * it: compute it only to compare with old records, never to publish.
     */
    fingerprint(namespace) {
        return (0,external_node_crypto_namespaceObject.createHash)('sha256').update(`${namespace}:${this.#value}`, 'utf8').digest('hex');
    }
}
//# sourceMappingURL=secret.js.map
;// CONCATENATED MODULE: ../packages/core/dist/index.js







//# sourceMappingURL=index.js.map
;// CONCATENATED MODULE: ./lib/report.js

/** The one top-level catch: a user error as an annotation with its hint and no stack; a bug with its stack. */
function reportFailure(runner, error) {
    const formatted = formatUserError(error);
    const parts = [formatted.message];
    if (formatted.hint !== undefined)
        parts.push(`Hint: ${formatted.hint}`);
    if (formatted.stack !== undefined)
        parts.push(formatted.stack);
    runner.error(parts.join('\n'));
    process.exitCode = 1;
}

;// CONCATENATED MODULE: ./lib/runner.js
// The runner's side of this action is core's one writer to the log (packages/core/src/runner),
// re-exported under the name fetch, cleanup and their tests import.


;// CONCATENATED MODULE: ./lib/post.js



const runner = createRunner();
try {
    cleanup(runner);
}
catch (error) {
    reportFailure(runner, error);
}

