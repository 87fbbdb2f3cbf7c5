namespace Kiln.NN;

/// <summary>
/// What <see cref="Module.LoadStateDict"/> could not match when called with <c>strict: false</c>:
/// the model's keys the state dict lacked, and the state dict's keys the model does not have.
/// </summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
