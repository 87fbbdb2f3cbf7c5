using System.Text;

namespace Kiln.Bench;

/// <summary>
/// Renders one <see cref="SystemTable"/> as Markdown from pooled results: a row per workload and
/// thread count, a cell per system (median and interquartile range, and which variant won where a
/// system ran several ways), then the subject's time over each peer's time, with the target.
/// </summary>
internal static class SystemTableReport
{
    internal static string Render(SystemTable table, IReadOnlyDictionary<(string Impl, string Group, string Name, int Threads), BenchResult> pooled,
        IReadOnlyList<int> threadCounts)
    {
        var names = pooled.Keys.Where(k => k.Group == table.Group).Select(k => k.Name).Distinct().ToList();
        var md = new StringBuilder();
        if (names.Count == 0) return "";
        md.AppendLine($"### {table.Title}").AppendLine();
        md.Append("| workload | unit | threads | ").AppendJoin(" | ", table.Columns.Select(c => c.Label)).Append(" | ");
        md.AppendJoin(" | ", table.Ratios.Select(r => r.Label(table.Subject) + (r.Target is { } t ? $" (target ≤ {MarkdownReport.Fmt(t)})" : ""))).AppendLine(" |");
        md.Append("| --- | --- | ---: |").Append(string.Concat(Enumerable.Repeat(" ---: |", table.Columns.Length + table.Ratios.Length))).AppendLine();
        foreach (var name in names)
        {
            foreach (int threads in threadCounts)
            {
                var cells = table.Columns.ToDictionary(c => c.Label,
                    c => SystemTable.Best(c, impl => pooled.GetValueOrDefault((impl, table.Group, name, threads))));
                var any = cells.Values.FirstOrDefault(c => c is not null);
                if (any is null) continue;
                md.Append($"| {name} | {any.Value.Result.Unit.Label()} | {threads} |");
                foreach (var column in table.Columns)
                {
                    var cell = cells[column.Label];
                    md.Append(' ').Append(cell is null ? "—" : MarkdownReport.Cell(cell.Value.Result));
                    if (cell is not null && cell.Value.Variant.Length > 0) md.Append($" *{cell.Value.Variant}*");
                    md.Append(" |");
                }
                var subject = cells.GetValueOrDefault(table.Subject);
                foreach (var ratio in table.Ratios)
                {
                    double? value = Ratio(subject?.Result, ratio.Peers.Select(p => cells.GetValueOrDefault(p)?.Result));
                    md.Append(' ').Append(value is null ? "—" : MarkdownReport.Fmt(value.Value));
                    if (value is not null && ratio.Target is { } target) md.Append(value <= target ? " ✓" : " ✗");
                    md.Append(" |");
                }
                md.AppendLine();
            }
        }
        md.AppendLine();
        md.AppendLine($"Times per call, lower is better: each cell is the median (interquartile range) of all timed repetitions pooled over the rounds; " +
            $"a system run several ways shows its fastest (in italics). Ratios divide {table.Subject}'s median time by the peer's " +
            "(\"best of\": the fastest of those peers); below 1 means Kiln is faster. ✓/✗: the issue's target met or not.").AppendLine();
        return md.ToString();
    }

    /// <summary>The subject's time over the fastest peer's time (rates inverted), or null when either is missing.</summary>
    internal static double? Ratio(BenchResult? subject, IEnumerable<BenchResult?> peers)
    {
        if (subject is null) return null;
        bool rate = subject.Unit.HigherIsBetter();
        BenchResult? best = null;
        foreach (var p in peers)
        {
            if (p is null) continue;
            if (best is null || (rate ? p.Median > best.Median : p.Median < best.Median)) best = p;
        }
        if (best is null) return null;
        return rate ? best.Median / subject.Median : subject.Median / best.Median;
    }
}
