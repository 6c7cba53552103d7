import Anser from "anser";

export interface LogSegment {
  text: string;
  className: string;
  style?: { color?: string; backgroundColor?: string };
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes begin with ESC
const SGR = /\u001b\[([0-9;]*)m/g;
const isReset = (params: string) => params === "" || params === "0" || params.startsWith("0;");

/**
 * Turns log text into styled segments, chunk by chunk. The colour codes still in force at the
 * end of a chunk are carried into the next (as in a terminal, where a colour lasts until reset).
 * Text is never parsed as HTML.
 */
export function createAnsiParser(): (chunk: string) => LogSegment[] {
  let carry: string[] = [];
  return (chunk) => {
    // A fresh parse per chunk, from the carried codes: Anser's own state carries some of them only.
    const entries = Anser.ansiToJson(carry.join("") + chunk, { use_classes: true, remove_empty: true });
    for (const match of chunk.matchAll(SGR)) {
      if (isReset(match[1]!)) carry = [];
      else carry = [...carry.slice(-15), match[0]];
    }
    return entries.map((entry) => {
      const classes = [
        entry.fg && entry.fg !== "ansi-truecolor" ? `${entry.fg}-fg` : "",
        entry.bg && entry.bg !== "ansi-truecolor" ? `${entry.bg}-bg` : "",
        ...entry.decorations.map((d) => `ansi-${d}`),
      ];
      const style: LogSegment["style"] = {};
      if (entry.fg === "ansi-truecolor" && entry.fg_truecolor) style.color = `rgb(${entry.fg_truecolor})`;
      if (entry.bg === "ansi-truecolor" && entry.bg_truecolor) style.backgroundColor = `rgb(${entry.bg_truecolor})`;
      return { text: entry.content, className: [...new Set(classes.filter(Boolean))].join(" "), style: style.color || style.backgroundColor ? style : undefined };
    });
  };
}
