/** readTlsFiles: the PEM pair for Deno.serve, or a ConfigError naming the setting and the file. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readTlsFiles } from "../../lib/tls.ts";
import { withTempDir } from "../fixtures.ts";
import { makeSelfSignedCert } from "../self_signed.ts";

/** Writes cert.pem and key.pem (or the given texts) into dir and returns their paths. */
async function writePair(
  dir: string,
  texts: { cert: string; key: string },
) {
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await Deno.writeTextFile(certPath, texts.cert);
  await Deno.writeTextFile(keyPath, texts.key);
  return { certPath, keyPath };
}

async function refusal(paths: { certPath: string; keyPath: string }) {
  const err = await readTlsFiles(paths).then(
    () => assert.fail("readTlsFiles accepted the files"),
    (e) => e,
  );
  assert.equal(err.name, "ConfigError");
  return err.message as string;
}

Deno.test("readTlsFiles returns the certificate and key texts of a matching pair", async () => {
  await withTempDir(async (dir) => {
    const pair = await makeSelfSignedCert();
    assert.deepEqual(await readTlsFiles(await writePair(dir, pair)), pair);
  });
});

Deno.test("readTlsFiles names TLS_CERT or TLS_KEY and the path when a file is missing or a directory", async () => {
  await withTempDir(async (dir) => {
    const { certPath, keyPath } = await writePair(
      dir,
      await makeSelfSignedCert(),
    );
    const missing = join(dir, "nope.pem");
    assert.equal(
      await refusal({ certPath: missing, keyPath }),
      `TLS_CERT cannot be read from ${JSON.stringify(missing)}: no such file`,
    );
    assert.equal(
      await refusal({ certPath, keyPath: missing }),
      `TLS_KEY cannot be read from ${JSON.stringify(missing)}: no such file`,
    );
    assert.equal(
      await refusal({ certPath: dir, keyPath }),
      `TLS_CERT cannot be read from ${JSON.stringify(dir)}: it is a directory`,
    );
  });
});

Deno.test("readTlsFiles refuses swapped files and an encrypted key, without echoing the key", async () => {
  await withTempDir(async (dir) => {
    const pair = await makeSelfSignedCert();
    const { certPath, keyPath } = await writePair(dir, pair);
    const swapped = await refusal({ certPath: keyPath, keyPath: certPath });
    assert.equal(
      swapped,
      `TLS_CERT must be a PEM certificate (-----BEGIN CERTIFICATE-----), ${
        JSON.stringify(keyPath)
      } is not`,
    );
    assert.equal(
      await refusal({ certPath, keyPath: certPath }),
      `TLS_KEY must be a PEM private key (-----BEGIN PRIVATE KEY-----), ${
        JSON.stringify(certPath)
      } is not`,
    );
    const encKeyPath = join(dir, "encrypted.pem");
    await Deno.writeTextFile(
      encKeyPath,
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    assert.equal(
      await refusal({ certPath, keyPath: encKeyPath }),
      `TLS_KEY must be an unencrypted PEM private key, ${
        JSON.stringify(encKeyPath)
      } needs a passphrase`,
    );
    const keyBody = pair.key.split("\n")[1]!;
    assert.ok(!swapped.includes(keyBody), "the key's text was echoed");
  });
});

Deno.test("readTlsFiles refuses the key of another certificate and a damaged certificate", async () => {
  await withTempDir(async (dir) => {
    const mine = await makeSelfSignedCert();
    const other = await makeSelfSignedCert();
    const mismatched = await writePair(dir, {
      cert: mine.cert,
      key: other.key,
    });
    assert.equal(
      await refusal(mismatched),
      `TLS_KEY ${
        JSON.stringify(mismatched.keyPath)
      } is not the private key of the certificate in TLS_CERT`,
    );
    const damaged = await writePair(dir, {
      cert: "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
      key: mine.key,
    });
    assert.match(
      await refusal(damaged),
      /^TLS_CERT and TLS_KEY cannot be used for HTTPS: \S/,
    );
  });
});
