/** The page shown to people when a request fails. */
import { Layout } from "./layout.tsx";

export interface ErrorPageProps {
  status: number;
  title: string;
  detail: string;
  styles?: string[];
}

/** A readable error page: what happened and where to go. */
export function ErrorPage(
  { status, title, detail, styles = [] }: ErrorPageProps,
) {
  return (
    "<!doctype html>" +
    (
      <Layout title={`${status} ${title}`} styles={styles}>
        <article>
          <h1>{title}</h1>
          <p>{detail}</p>
          <p>
            <a href="/">Back to the start page</a>
          </p>
        </article>
      </Layout>
    )
  );
}
