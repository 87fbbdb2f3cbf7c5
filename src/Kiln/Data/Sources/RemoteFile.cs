namespace Kiln.Data;

/// <summary>One file of a dataset as its publisher serves it: the name, the exact size and the SHA-256 (lowercase hex).</summary>
internal sealed record RemoteFile(string Name, long Size, string Sha256);
