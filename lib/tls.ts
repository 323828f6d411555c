/** TLS_CERT and TLS_KEY: the PEM files read and checked at start, before anything is written. */
import { ConfigError } from "../config.ts";

/** The PEM text Deno.serve takes as `cert` and `key`. */
export interface TlsFiles {
  cert: string;
  key: string;
}

function why(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.PermissionDenied) {
    return "permission denied (the server's user must be able to read it)";
  }
  if (err instanceof Deno.errors.IsADirectory) return "it is a directory";
  return err instanceof Error ? err.message : String(err);
}

async function readPem(name: "TLS_CERT" | "TLS_KEY", path: string) {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(
      `${name} cannot be read from ${JSON.stringify(path)}: ${why(err)}`,
    );
  }
}

/** Reads both files; a ConfigError names the setting whose file is unreadable, not PEM, or not of a pair. */
export async function readTlsFiles(
  paths: { certPath: string; keyPath: string },
): Promise<TlsFiles> {
  const cert = await readPem("TLS_CERT", paths.certPath);
  const key = await readPem("TLS_KEY", paths.keyPath);
  // The file names only: a key's text is never echoed.
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(
      `TLS_CERT must be a PEM certificate (-----BEGIN CERTIFICATE-----), ${
        JSON.stringify(paths.certPath)
      } is not`,
    );
  }
  if (key.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
    throw new ConfigError(
      `TLS_KEY must be an unencrypted PEM private key, ${
        JSON.stringify(paths.keyPath)
      } needs a passphrase`,
    );
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key)) {
    throw new ConfigError(
      `TLS_KEY must be a PEM private key (-----BEGIN PRIVATE KEY-----), ${
        JSON.stringify(paths.keyPath)
      } is not`,
    );
  }
  try {
    // rustls parses the pair and checks the key against the certificate when
    // it builds any config; a client builds one without opening a socket, so
    // a bad pair stops the start before the store and the first admin exist.
    Deno.createHttpClient({ cert, key }).close();
  } catch (err) {
    throw new ConfigError(
      why(err).includes("KeyMismatch")
        ? `TLS_KEY ${
          JSON.stringify(paths.keyPath)
        } is not the private key of the certificate in TLS_CERT`
        : `TLS_CERT and TLS_KEY cannot be used for HTTPS: ${why(err)}`,
    );
  }
  return { cert, key };
}
