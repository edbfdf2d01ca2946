/** The one record every stage reads and writes (see DESIGN.md, "Data model"). */
export interface Doc {
  /** Stable and unique within its source. */
  id: string;
  text: string;
  /** source, url, language, scores, category ...; must stay JSON-safe. */
  meta: Record<string, unknown>;
}
