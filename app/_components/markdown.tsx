import { memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import styles from "./markdown.module.css";

/**
 * Agent output is untrusted: raw HTML in it is dropped (`skipHtml`, and no rehype-raw), react-markdown's
 * default URL check drops `javascript:` and the like, links open apart from this page, and images
 * are named rather than loaded (a page should not fetch from wherever an agent's text points).
 * The agent's headings are part of its message, not of the page's outline: shown bold, not as headings.
 */
const heading: Components["h1"] = ({ children }) => <p className={styles.mdHeading}>{children}</p>;

const components: Components = {
  h1: heading,
  h2: heading,
  h3: heading,
  h4: heading,
  h5: heading,
  h6: heading,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
  img: ({ alt, src }) => <span className={styles.mdImage}>[image: {alt || (typeof src === "string" ? src : "")}]</span>,
};

const plugins = [remarkGfm];

/** An agent's text as Markdown (GitHub's flavour: tables, task lists, strikethrough). */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className={styles.markdown}>
      <ReactMarkdown remarkPlugins={plugins} skipHtml components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
