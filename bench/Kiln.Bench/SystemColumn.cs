namespace Kiln.Bench;

/// <summary>One system of a <see cref="SystemTable"/>: its result impl names, each with the variant shown when it wins.</summary>
internal sealed record SystemColumn(string Label, params (string Impl, string Variant)[] Impls);
