namespace Kiln.Data;

/// <summary>
/// Where a dataset lives: its title (for messages), the directory name it has under a data root and the
/// user cache, the base addresses it is served from (tried in order; each file's address is the base
/// plus its name), its files, and a hint printed when it cannot be found.
/// </summary>
internal sealed record DatasetSource(string Title, string DirectoryName, IReadOnlyList<string> Mirrors, IReadOnlyList<RemoteFile> Files, string Hint);
