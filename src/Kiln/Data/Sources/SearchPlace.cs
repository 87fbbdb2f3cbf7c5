namespace Kiln.Data;

/// <summary>One directory a dataset is looked for in, and why it is on the list (for the error message).</summary>
internal readonly record struct SearchPlace(string Directory, string Origin);
