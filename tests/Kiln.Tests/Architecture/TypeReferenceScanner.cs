using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Kiln.Tests.Architecture;

/// <summary>
/// Reads an assembly's metadata and lists, for each of its top-level types, the other types defined in
/// the same assembly that it refers to: base type and interfaces, generic constraints, field, method,
/// property and event signatures, custom attributes, locals, exception handlers, and every type, method,
/// field, signature and token operand in method bodies (IL scanned opcode by opcode). Nested types,
/// compiler-generated ones included (lambdas, iterators, async state machines), count as their
/// outermost declaring type.
/// </summary>
internal sealed class TypeReferenceScanner : IDisposable
{
    /// <summary>One type's reference to another, both by full name (outermost types, "Kiln.Ops.Dispatcher").</summary>
    internal readonly record struct Reference(string From, string FromNamespace, string To, string ToNamespace);

    private readonly PEReader _pe;
    private readonly MetadataReader _md;
    private readonly CollectingProvider _provider;

    internal TypeReferenceScanner(string assemblyPath)
    {
        _pe = new PEReader(File.OpenRead(assemblyPath));
        _md = _pe.GetMetadataReader();
        _provider = new CollectingProvider();
    }

    public void Dispose() => _pe.Dispose();

    /// <summary>Every distinct reference between two different top-level types of the assembly.</summary>
    internal List<Reference> References()
    {
        var result = new HashSet<Reference>();
        foreach (var handle in _md.TypeDefinitions)
        {
            var from = Outermost(handle);
            _provider.Found.Clear();
            ScanType(handle);
            foreach (var target in _provider.Found)
            {
                var to = Outermost(target);
                if (to == from) continue;
                result.Add(new Reference(FullName(from), Namespace(from), FullName(to), Namespace(to)));
            }
        }
        return result.OrderBy(r => r.From, StringComparer.Ordinal).ThenBy(r => r.To, StringComparer.Ordinal).ToList();
    }

    internal string Namespace(TypeDefinitionHandle handle) => _md.GetString(_md.GetTypeDefinition(Outermost(handle)).Namespace);

    internal string FullName(TypeDefinitionHandle handle)
    {
        var def = _md.GetTypeDefinition(handle);
        var name = _md.GetString(def.Name);
        var declaring = def.GetDeclaringType();
        if (!declaring.IsNil) return FullName(declaring) + "+" + name;
        var ns = _md.GetString(def.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private TypeDefinitionHandle Outermost(TypeDefinitionHandle handle)
    {
        while (true)
        {
            var declaring = _md.GetTypeDefinition(handle).GetDeclaringType();
            if (declaring.IsNil) return handle;
            handle = declaring;
        }
    }

    private void ScanType(TypeDefinitionHandle handle)
    {
        var type = _md.GetTypeDefinition(handle);
        ScanTypeHandle(type.BaseType);
        foreach (var i in type.GetInterfaceImplementations()) ScanTypeHandle(_md.GetInterfaceImplementation(i).Interface);
        ScanGenericParameters(type.GetGenericParameters());
        ScanAttributes(type.GetCustomAttributes());
        var context = GenericContext.Instance;

        foreach (var f in type.GetFields())
        {
            var field = _md.GetFieldDefinition(f);
            field.DecodeSignature(_provider, context);
            ScanAttributes(field.GetCustomAttributes());
        }
        foreach (var p in type.GetProperties())
        {
            var property = _md.GetPropertyDefinition(p);
            property.DecodeSignature(_provider, context);
            ScanAttributes(property.GetCustomAttributes());
        }
        foreach (var e in type.GetEvents())
        {
            var ev = _md.GetEventDefinition(e);
            ScanTypeHandle(ev.Type);
            ScanAttributes(ev.GetCustomAttributes());
        }
        foreach (var m in type.GetMethods())
        {
            var method = _md.GetMethodDefinition(m);
            method.DecodeSignature(_provider, context);
            ScanGenericParameters(method.GetGenericParameters());
            ScanAttributes(method.GetCustomAttributes());
            foreach (var p in method.GetParameters()) ScanAttributes(_md.GetParameter(p).GetCustomAttributes());
            if (method.RelativeVirtualAddress != 0) ScanBody(_pe.GetMethodBody(method.RelativeVirtualAddress));
        }
        foreach (var impl in type.GetMethodImplementations())
        {
            var mi = _md.GetMethodImplementation(impl);
            ScanToken(mi.MethodBody);
            ScanToken(mi.MethodDeclaration);
        }
    }

    private void ScanGenericParameters(GenericParameterHandleCollection parameters)
    {
        foreach (var gp in parameters)
        {
            var parameter = _md.GetGenericParameter(gp);
            foreach (var c in parameter.GetConstraints()) ScanTypeHandle(_md.GetGenericParameterConstraint(c).Type);
            ScanAttributes(parameter.GetCustomAttributes());
        }
    }

    private void ScanAttributes(CustomAttributeHandleCollection attributes)
    {
        foreach (var a in attributes) ScanToken(_md.GetCustomAttribute(a).Constructor);
    }

    private void ScanBody(MethodBodyBlock body)
    {
        if (!body.LocalSignature.IsNil)
            _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_provider, GenericContext.Instance);
        foreach (var region in body.ExceptionRegions)
            if (!region.CatchType.IsNil) ScanTypeHandle(region.CatchType);

        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            int code = il.ReadByte();
            if (code == 0xFE) code = 0xFE00 | il.ReadByte();
            if (!OperandTypes.TryGetValue((short)code, out var operand))
                throw new BadImageFormatException($"unknown IL opcode 0x{code:X}");
            switch (operand)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar: il.Offset += 1; break;
                case OperandType.InlineVar: il.Offset += 2; break;
                case OperandType.InlineBrTarget:
                case OperandType.InlineI:
                case OperandType.ShortInlineR:
                case OperandType.InlineString: il.Offset += 4; break;
                case OperandType.InlineI8:
                case OperandType.InlineR: il.Offset += 8; break;
                case OperandType.InlineSwitch:
                    // Read the count first: "il.Offset += 4 * il.ReadInt32()" would load Offset before the
                    // read moved it, skipping the count's own 4 bytes.
                    int targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineType:
                case OperandType.InlineTok:
                case OperandType.InlineSig:
                    ScanToken(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                default: throw new BadImageFormatException($"unexpected operand type {operand}");
            }
        }
    }

    private void ScanToken(EntityHandle handle)
    {
        if (handle.IsNil) return;
        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition:
            case HandleKind.TypeReference:
            case HandleKind.TypeSpecification:
                ScanTypeHandle(handle);
                break;
            case HandleKind.MethodDefinition:
                var method = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                _provider.Found.Add(method.GetDeclaringType());
                method.DecodeSignature(_provider, GenericContext.Instance);
                break;
            case HandleKind.FieldDefinition:
                var field = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                _provider.Found.Add(field.GetDeclaringType());
                field.DecodeSignature(_provider, GenericContext.Instance);
                break;
            case HandleKind.MemberReference:
                var member = _md.GetMemberReference((MemberReferenceHandle)handle);
                ScanToken(member.Parent);
                if (member.GetKind() == MemberReferenceKind.Method) member.DecodeMethodSignature(_provider, GenericContext.Instance);
                else member.DecodeFieldSignature(_provider, GenericContext.Instance);
                break;
            case HandleKind.MethodSpecification:
                var spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                ScanToken(spec.Method);
                spec.DecodeSignature(_provider, GenericContext.Instance);
                break;
            case HandleKind.StandaloneSignature:
                var sig = _md.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                if (sig.GetKind() == StandaloneSignatureKind.Method) sig.DecodeMethodSignature(_provider, GenericContext.Instance);
                else sig.DecodeLocalSignature(_provider, GenericContext.Instance);
                break;
        }
    }

    private void ScanTypeHandle(EntityHandle handle)
    {
        if (handle.IsNil) return;
        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition: _provider.Found.Add((TypeDefinitionHandle)handle); break;
            case HandleKind.TypeSpecification:
                _md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(_provider, GenericContext.Instance);
                break;
            // Type references point outside the assembly (framework, packages): not a layer of ours.
        }
    }

    private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value, op => op.OperandType);

    private sealed class GenericContext
    {
        internal static readonly GenericContext Instance = new();
    }

    /// <summary>Decodes signatures only to collect the type definitions they mention.</summary>
    private sealed class CollectingProvider : ISignatureTypeProvider<bool, GenericContext>
    {
        internal readonly HashSet<TypeDefinitionHandle> Found = new();

        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            Found.Add(handle);
            return true;
        }

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => true;

        public bool GetTypeFromSpecification(MetadataReader reader, GenericContext context, TypeSpecificationHandle handle, byte rawTypeKind)
            => reader.GetTypeSpecification(handle).DecodeSignature(this, context);

        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => true;
        public bool GetSZArrayType(bool elementType) => true;
        public bool GetArrayType(bool elementType, ArrayShape shape) => true;
        public bool GetByReferenceType(bool elementType) => true;
        public bool GetPointerType(bool elementType) => true;
        public bool GetPinnedType(bool elementType) => true;
        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => true;
        public bool GetGenericTypeParameter(GenericContext genericContext, int index) => true;
        public bool GetGenericMethodParameter(GenericContext genericContext, int index) => true;
        public bool GetFunctionPointerType(MethodSignature<bool> signature) => true;
        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => true;
    }
}
