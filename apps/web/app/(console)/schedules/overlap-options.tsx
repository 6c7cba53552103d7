const OVERLAP_CHOICES: { value: string; label: string }[] = [
  { value: "skip", label: "Skip it while the previous task runs" },
  { value: "buffer_one", label: "Run it after the previous task (buffer one)" },
  { value: "allow_all", label: "Run it alongside (allow all)" },
  { value: "cancel_other", label: "Cancel the previous task, run this one" },
];

/** The overlap policies, as the options of a select. */
export function OverlapOptions() {
  return OVERLAP_CHOICES.map((c) => (
    <option key={c.value} value={c.value}>
      {c.label}
    </option>
  ));
}
