namespace Kiln;

/// <summary>
/// A position in Kiln's random stream: the seed (the Philox key) and the next counter to draw.
/// Both are plain numbers, so a checkpoint stores them as metadata.
/// </summary>
public readonly record struct RngState(ulong Seed, ulong Counter);
