/** The page a problem's `type` URI points to: what the error means and what to do. */
import { Layout } from "./layout.tsx";

export interface ProblemType {
  title: string;
  status: number;
  meaning: string;
  fix: string;
}

/** Explains one problem type to the developer who met it. */
export function ProblemTypePage(
  { slug, type, styles }: { slug: string; type: ProblemType; styles: string[] },
) {
  return (
    "<!doctype html>" +
    (
      <Layout title={`${type.title} · Ticket desk API`} styles={styles}>
        <article>
          <hgroup>
            <h1>{type.title}</h1>
            <p>
              HTTP {type.status} · <code>/problems/{slug}</code>
            </p>
          </hgroup>
          <p>{type.meaning}</p>
          <h2>What to do</h2>
          <p>{type.fix}</p>
          <p>
            Every error of the API is an RFC 9457{" "}
            <code>application/problem+json</code> body; see the{" "}
            <a href="/api/openapi.json">API description</a>.
          </p>
        </article>
      </Layout>
    )
  );
}
