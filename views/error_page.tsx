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
            <a href="/dashboard">Back to the dashboard</a>
          </p>
        </article>
      </Layout>
    )
  );
}

/** The same message as a fragment, for a request htmx made from a page. */
export function ErrorNotice(
  { status, title, detail }: Omit<ErrorPageProps, "styles">,
) {
  return (
    <article class="error-notice" data-status={String(status)}>
      <p>
        <strong>{title}.</strong> {detail}
      </p>
      <button type="button" class="secondary outline" data-dismiss>
        Dismiss
      </button>
    </article>
  );
}
