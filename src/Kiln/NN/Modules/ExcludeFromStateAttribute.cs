namespace Kiln.NN;

/// <summary>
/// Keeps a field (or an auto-property's backing field) of a <see cref="Module"/> out of the module's
/// state: a tensor so marked is neither a parameter nor a buffer, and a module so marked is not a
/// child. For caches, back references and tensors a module only borrows.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = true)]
public sealed class ExcludeFromStateAttribute : Attribute
{
}
