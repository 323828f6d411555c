/**
 * A throw-away self-signed certificate for localhost and 127.0.0.1, made with
 * WebCrypto and a few lines of DER: the tests need no openssl binary.
 *
 * It is a leaf certificate (CA:FALSE, serverAuth) trusted as its own root, the
 * shape rustls accepts in `Deno.createHttpClient({ caCerts })`; openssl's
 * `req -x509` default (CA:TRUE) is refused there as "CA used as end entity".
 */

/** A PEM certificate and its PEM (PKCS #8) private key. */
export interface SelfSigned {
  cert: string;
  key: string;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One DER type-length-value; lengths past 127 bytes take the long form. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(...content);
  let n = body.length;
  let length: number[];
  if (n < 0x80) {
    length = [n];
  } else {
    length = [];
    for (; n > 0; n >>= 8) length.unshift(n & 0xff);
    length.unshift(0x80 | length.length);
  }
  return concat(new Uint8Array([tag, ...length]), body);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** An unsigned big-endian INTEGER: leading zeros dropped, one added back if the top bit is set. */
function integer(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(
    0x02,
    trimmed[0]! & 0x80 ? concat(new Uint8Array([0]), trimmed) : trimmed,
  );
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) groups.unshift(0x80 | (v & 0x7f));
    bytes.push(...groups);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

function utcTime(d: Date): Uint8Array {
  const iso = d.toISOString(); // 2025-01-02T03:04:05.678Z → 250102030405Z
  const s = iso.slice(2, 19).replace(/[-T:]/g, "") + "Z";
  return tlv(0x17, utf8(s));
}

function extension(id: string, critical: boolean, value: Uint8Array) {
  return seq(
    oid(id),
    ...(critical ? [tlv(0x01, new Uint8Array([0xff]))] : []),
    tlv(0x04, value),
  );
}

function pem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  const lines = b64.match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

const HOUR = 3600_000;

/** Makes a P-256 key and a certificate for localhost and 127.0.0.1, valid from an hour ago for two days. */
export async function makeSelfSignedCert(): Promise<SelfSigned> {
  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const spki = new Uint8Array(
    await crypto.subtle.exportKey("spki", keys.publicKey),
  );
  const pkcs8 = new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", keys.privateKey),
  );
  const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(
    tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, utf8("localhost")))),
  );
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and all 16 bytes kept
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, integer(new Uint8Array([2]))), // v3: extensions follow
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(utcTime(new Date(now - HOUR)), utcTime(new Date(now + 48 * HOUR))),
    name,
    spki,
    tlv(
      0xa3,
      seq(
        extension("2.5.29.19", true, seq()), // basicConstraints: CA:FALSE
        extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
        extension(
          "2.5.29.17",
          false,
          seq(
            tlv(0x82, utf8("localhost")),
            tlv(0x87, new Uint8Array([127, 0, 0, 1])),
          ),
        ),
      ),
    ),
  );
  // WebCrypto signs as r‖s (IEEE P1363); X.509 wants SEQUENCE { r, s }.
  const rs = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbs,
    ),
  );
  const signature = seq(integer(rs.subarray(0, 32)), integer(rs.subarray(32)));
  const cert = seq(
    tbs,
    ecdsaWithSha256,
    tlv(0x03, new Uint8Array([0]), signature),
  );
  return { cert: pem("CERTIFICATE", cert), key: pem("PRIVATE KEY", pkcs8) };
}
