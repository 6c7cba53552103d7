import Anser from "anser";

export interface LogSegment {
  text: string;
  className: string;
  style?: { color?: string; backgroundColor?: string };
}

/**
 * Turns log text into styled segments, chunk by chunk: one parser per log, so a colour set in
 * one chunk carries on into the next (as it does in a terminal). Text is never parsed as HTML.
 */
export function createAnsiParser(): (chunk: string) => LogSegment[] {
  const anser = new Anser();
  return (chunk) =>
    anser.process(chunk, { json: true, use_classes: true, remove_empty: true }).map((entry) => {
      const classes = [
        entry.fg && entry.fg !== "ansi-truecolor" ? `${entry.fg}-fg` : "",
        entry.bg && entry.bg !== "ansi-truecolor" ? `${entry.bg}-bg` : "",
        ...entry.decorations.map((d) => `ansi-${d}`),
      ].filter(Boolean);
      const style: LogSegment["style"] = {};
      if (entry.fg === "ansi-truecolor" && entry.fg_truecolor) style.color = `rgb(${entry.fg_truecolor})`;
      if (entry.bg === "ansi-truecolor" && entry.bg_truecolor) style.backgroundColor = `rgb(${entry.bg_truecolor})`;
      return { text: entry.content, className: classes.join(" "), style: style.color || style.backgroundColor ? style : undefined };
    });
}
