/** The start page: what runs here and how to file a first ticket. */
import { Layout } from "./layout.tsx";

export interface HomeProps {
  styles: string[];
  origin: string;
}

/** Explains the API until the dashboard lands. */
export function HomePage({ styles, origin }: HomeProps) {
  const curl = `curl -X POST ${origin}/create_ticket \\
  -H "Content-Type: application/json" \\
  -d '{"user_id": "john_doe", "pdf_link": "https://example.com/guide.pdf"}'`;
  return (
    "<!doctype html>" +
    (
      <Layout title="Ticket desk" styles={styles}>
        <hgroup>
          <h1>Ticket desk</h1>
          <p>The ticket API is running.</p>
        </hgroup>
        <section aria-labelledby="first-ticket">
          <h2 id="first-ticket">File a first ticket</h2>
          <code class="block">{curl}</code>
        </section>
        <section aria-labelledby="api">
          <h2 id="api">API</h2>
          <ul>
            <li>
              <a href="/api/openapi.json">OpenAPI document</a>
            </li>
            <li>
              <a href="/api/v1/tickets">Latest tickets (JSON)</a>
            </li>
            <li>
              <a href="/healthz">Health check</a>
            </li>
          </ul>
        </section>
      </Layout>
    )
  );
}
