namespace Kiln.Bench;

/// <summary>
/// A ratio column of a <see cref="SystemTable"/>: the subject's median time over the fastest of
/// <see cref="Peers"/> (column labels); <see cref="Target"/> is the issue's bound on it, if any.
/// </summary>
internal sealed record SystemRatio(string[] Peers, double? Target = null)
{
    internal string Label(string subject) => Peers.Length == 1
        ? $"{subject} / {Peers[0]}"
        : $"{subject} / best of ({string.Join(", ", Peers)})";
}
