/** The page shell shared by every HTML page. */
import type { Child } from "hono/jsx";

export interface LayoutProps {
  title: string;
  /** Stylesheet URLs, content-hashed by the asset route. */
  styles: string[];
  children?: Child;
}

/** Wraps a page's main content in the document shell. */
export function Layout({ title, styles, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{title}</title>
        <link rel="icon" href="/favicon.ico" type="image/svg+xml" />
        {styles.map((href) => <link key={href} rel="stylesheet" href={href} />)}
      </head>
      <body>
        <main class="container">{children}</main>
      </body>
    </html>
  );
}
