using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Kiln.Tests.PublicApi;

/// <summary>
/// The public surface of an assembly as sorted lines, one per type and member, in a C#-like form that
/// stays the same from build to build: <c>Kiln.Tensor: Tensor Add(Tensor other)</c>. Protected members
/// of unsealed public types count (a subclass sees them). Nullability, params, defaults, ref kinds,
/// static, abstract/virtual/override and extension methods are shown, since each changes what callers may write.
/// </summary>
internal static class PublicApiListing
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    internal static List<string> Lines(Assembly assembly)
    {
        var lines = new List<string>();
        var nullability = new NullabilityInfoContext();
        foreach (var type in assembly.GetTypes().Where(IsVisible))
        {
            string owner = TypeKey(type);
            lines.Add($"{owner}: {Declaration(type)}");
            foreach (var member in type.GetMembers(Declared))
            {
                var line = Member(member, type, nullability);
                if (line is not null) lines.Add($"{owner}: {line}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static bool IsVisible(Type type)
    {
        if (type.IsNested)
            return IsVisible(type.DeclaringType!) && (type.IsNestedPublic || (type.IsNestedFamily || type.IsNestedFamORAssem) && !type.DeclaringType!.IsSealed);
        return type.IsPublic;
    }

    private static bool IsVisible(MethodBase? m, Type owner) =>
        m is not null && (m.IsPublic || ((m.IsFamily || m.IsFamilyOrAssembly) && !owner.IsSealed));

    private static bool IsVisible(FieldInfo f, Type owner) => f.IsPublic || ((f.IsFamily || f.IsFamilyOrAssembly) && !owner.IsSealed);

    private static string TypeKey(Type type) =>
        type.IsNested ? TypeKey(type.DeclaringType!) + "+" + StripArity(type.Name) : (type.Namespace is { } ns ? ns + "." : "") + StripArity(type.Name) + GenericParameters(type);

    private static string StripArity(string name) => name.Contains('`') ? name[..name.IndexOf('`')] : name;

    private static string GenericParameters(Type type)
    {
        var own = type.GetGenericArguments();
        if (type.IsNested) own = own.Skip(type.DeclaringType!.GetGenericArguments().Length).ToArray();
        return own.Length == 0 ? "" : "<" + string.Join(", ", own.Select(a => a.Name)) + ">";
    }

    private static string Declaration(Type type)
    {
        var sb = new StringBuilder();
        if (type.IsNested && !type.IsNestedPublic) sb.Append("protected ");
        string kind;
        if (type.IsEnum) kind = "enum";
        else if (type.IsInterface) kind = "interface";
        else if (typeof(Delegate).IsAssignableFrom(type.BaseType)) kind = "delegate";
        else if (type.IsValueType) kind = (type.GetCustomAttribute<IsReadOnlyAttribute>() is not null ? "readonly " : "") + (IsRecord(type) ? "record struct" : "struct");
        else
        {
            kind = IsRecord(type) ? "record" : "class";
            if (type.IsAbstract && type.IsSealed) kind = "static " + kind;
            else if (type.IsAbstract) kind = "abstract " + kind;
            else if (type.IsSealed) kind = "sealed " + kind;
        }
        sb.Append(kind).Append(' ').Append(StripArity(type.Name)).Append(GenericParameters(type));
        var ownParameters = type.IsGenericTypeDefinition ? type.GetGenericArguments().Skip(type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0).ToArray() : [];
        var bases = new List<string>();
        if (type.IsEnum) bases.Add(TypeName(Enum.GetUnderlyingType(type)));
        else if (!type.IsValueType && type.BaseType is { } b && b != typeof(object) && kind != "delegate") bases.Add(TypeName(b));
        var inherited = type.BaseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces().Where(i => !inherited.Contains(i) && IsPublicType(i)).Select(TypeName).Order(StringComparer.Ordinal));
        if (bases.Count > 0) sb.Append(" : ").Append(string.Join(", ", bases));
        return sb.Append(Constraints(ownParameters)).ToString();
    }

    private static bool IsPublicType(Type t) => t.IsPublic || (t.IsNestedPublic && IsPublicType(t.DeclaringType!));

    private static bool IsRecord(Type type) =>
        type.GetMethod("<Clone>$", Declared) is not null
        || (type.IsValueType && type.GetMethod("PrintMembers", Declared) is { } pm && pm.GetCustomAttribute<CompilerGeneratedAttribute>() is not null);

    private static string? Member(MemberInfo member, Type owner, NullabilityInfoContext nullability)
    {
        switch (member)
        {
            case ConstructorInfo c when IsVisible(c, owner) && !c.IsStatic:
                return $"{Modifiers(c, owner)}.ctor({Parameters(c, nullability)})";
            case MethodInfo m when IsVisible(m, owner) && !m.IsSpecialName || (m?.IsSpecialName == true && m.Name.StartsWith("op_", StringComparison.Ordinal) && IsVisible(m, owner)):
                if (m!.Name.Contains('<')) return null;
                var returns = WithNullability(m.ReturnType, nullability.Create(m.ReturnParameter));
                if (m.IsSpecialName && m.Name is "op_Implicit" or "op_Explicit")
                    return $"{Modifiers(m, owner)}{m.Name[3..].ToLowerInvariant()} operator {returns}({Parameters(m, nullability)})";
                var name = m.IsSpecialName && m.Name.StartsWith("op_", StringComparison.Ordinal) ? "operator " + OperatorSymbol(m.Name) : m.Name;
                var generic = m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";
                var ext = m.IsDefined(typeof(ExtensionAttribute)) ? "this " : "";
                return $"{Modifiers(m, owner)}{returns} {name}{generic}({ext}{Parameters(m, nullability)}){Constraints(m.IsGenericMethodDefinition ? m.GetGenericArguments() : [])}";
            case PropertyInfo p:
                var getter = IsVisible(p.GetMethod, owner) ? p.GetMethod : null;
                var setter = IsVisible(p.SetMethod, owner) ? p.SetMethod : null;
                if (getter is null && setter is null) return null;
                var accessor = (getter ?? setter)!;
                var indexParams = p.GetIndexParameters();
                var pname = indexParams.Length > 0 ? $"this[{string.Join(", ", indexParams.Select(ip => Parameter(ip, nullability)))}]" : p.Name;
                var accessors = (getter is not null ? "get; " : "") + (setter is not null ? (IsInit(setter) ? "init; " : "set; ") : "");
                return $"{Modifiers(accessor, owner)}{WithNullability(p.PropertyType, nullability.Create(p))} {pname} {{ {accessors}}}";
            case FieldInfo f when IsVisible(f, owner) && !f.IsSpecialName:
                if (owner.IsEnum) return $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture)}";
                var fieldMods = f.IsLiteral ? "const " : (f.IsStatic ? "static " : "") + (f.IsInitOnly ? "readonly " : "");
                var value = f.IsLiteral ? " = " + Literal(f.GetRawConstantValue(), f.FieldType) : "";
                return $"{(f.IsPublic ? "" : "protected ")}{fieldMods}{WithNullability(f.FieldType, nullability.Create(f))} {f.Name}{value}";
            case EventInfo e when IsVisible(e.AddMethod, owner):
                return $"{Modifiers(e.AddMethod!, owner)}event {TypeName(e.EventHandlerType!)} {e.Name}";
            case Type:
                return null; // nested types get their own lines
            default:
                return null;
        }
    }

    private static string OperatorSymbol(string name) => name switch
    {
        "op_Addition" or "op_UnaryPlus" => "+",
        "op_Subtraction" or "op_UnaryNegation" => "-",
        "op_Multiply" => "*",
        "op_Division" => "/",
        "op_Modulus" => "%",
        "op_Equality" => "==",
        "op_Inequality" => "!=",
        "op_LessThan" => "<",
        "op_GreaterThan" => ">",
        "op_LessThanOrEqual" => "<=",
        "op_GreaterThanOrEqual" => ">=",
        "op_LogicalNot" => "!",
        "op_OnesComplement" => "~",
        "op_BitwiseAnd" => "&",
        "op_BitwiseOr" => "|",
        "op_ExclusiveOr" => "^",
        "op_LeftShift" => "<<",
        "op_RightShift" => ">>",
        "op_Increment" => "++",
        "op_Decrement" => "--",
        "op_True" => "true",
        "op_False" => "false",
        _ => name[3..],
    };

    /// <summary>" where T : unmanaged" style clauses for generic parameters that have constraints.</summary>
    private static string Constraints(Type[] parameters)
    {
        var sb = new StringBuilder();
        foreach (var p in parameters)
        {
            var parts = new List<string>();
            var attributes = p.GenericParameterAttributes;
            bool unmanaged = p.CustomAttributes.Any(a => a.AttributeType.Name == "IsUnmanagedAttribute");
            if (unmanaged) parts.Add("unmanaged");
            else if (attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint)) parts.Add("struct");
            else if (attributes.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint)) parts.Add("class");
            parts.AddRange(p.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(TypeName).Order(StringComparer.Ordinal));
            if (attributes.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint))
                parts.Add("new()");
            if (parts.Count > 0) sb.Append($" where {p.Name} : {string.Join(", ", parts)}");
        }
        return sb.ToString();
    }

    private static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static string Modifiers(MethodBase m, Type owner)
    {
        var sb = new StringBuilder();
        if (!m.IsPublic) sb.Append("protected ");
        if (m.IsStatic) sb.Append("static ");
        if (m is MethodInfo mi && !owner.IsInterface)
        {
            bool isOverride = mi.GetBaseDefinition().DeclaringType != mi.DeclaringType;
            if (mi.IsAbstract) sb.Append("abstract ");
            else if (isOverride) sb.Append(mi.IsFinal ? "sealed override " : "override ");
            else if (mi.IsVirtual && !mi.IsFinal) sb.Append("virtual ");
        }
        return sb.ToString();
    }

    private static string Parameters(MethodBase m, NullabilityInfoContext nullability) =>
        string.Join(", ", m.GetParameters().Select(p => Parameter(p, nullability)));

    private static string Parameter(ParameterInfo p, NullabilityInfoContext nullability)
    {
        var sb = new StringBuilder();
        if (p.IsDefined(typeof(ParamArrayAttribute)) || p.IsDefined(typeof(ParamCollectionAttribute))) sb.Append("params ");
        var type = p.ParameterType;
        if (type.IsByRef)
        {
            sb.Append(p.IsOut ? "out " : p.IsDefined(typeof(IsReadOnlyAttribute)) ? "in " : "ref ");
            type = type.GetElementType()!;
        }
        sb.Append(WithNullability(type, nullability.Create(p))).Append(' ').Append(p.Name);
        if (p.HasDefaultValue) sb.Append(" = ").Append(Literal(p.RawDefaultValue, type));
        return sb.ToString();
    }

    private static string Literal(object? value, Type type)
    {
        if (value is null) return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null";
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum) return $"{TypeName(underlying)}.{Enum.ToObject(underlying, value)}";
        return value switch
        {
            bool b => b ? "true" : "false",
            string s => "\"" + s + "\"",
            char c => "'" + c + "'",
            float f => f.ToString("R", CultureInfo.InvariantCulture) + "f",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    private static string WithNullability(Type type, NullabilityInfo info)
    {
        if (type.IsArray)
            return WithNullability(type.GetElementType()!, info.ElementType!) + "[" + new string(',', type.GetArrayRank() - 1) + "]" + (info.ReadState == NullabilityState.Nullable ? "?" : "");
        if (Nullable.GetUnderlyingType(type) is { } inner) return TypeName(inner) + "?";
        string name;
        if (type.IsGenericType && !type.IsGenericTypeDefinition && info.GenericTypeArguments.Length == type.GetGenericArguments().Length)
        {
            var args = type.GetGenericArguments().Select((a, i) => WithNullability(a, info.GenericTypeArguments[i]));
            name = GenericName(type, args.ToArray());
        }
        else name = TypeName(type);
        return !type.IsValueType && info.ReadState == NullabilityState.Nullable ? name + "?" : name;
    }

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte",
        [typeof(short)] = "short", [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint",
        [typeof(long)] = "long", [typeof(ulong)] = "ulong", [typeof(float)] = "float", [typeof(double)] = "double",
        [typeof(decimal)] = "decimal", [typeof(char)] = "char", [typeof(string)] = "string", [typeof(object)] = "object",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    /// <summary>A type as C# writes it, without namespaces (the owning type's full name starts each line).</summary>
    internal static string TypeName(Type type)
    {
        if (Keywords.TryGetValue(type, out var keyword)) return keyword;
        if (type.IsGenericParameter) return type.Name;
        if (type.IsArray) return TypeName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        if (type.IsPointer) return TypeName(type.GetElementType()!) + "*";
        if (type.IsByRef) return TypeName(type.GetElementType()!);
        if (Nullable.GetUnderlyingType(type) is { } inner) return TypeName(inner) + "?";
        if (type.IsGenericType) return GenericName(type, type.GetGenericArguments().Select(TypeName).ToArray());
        return type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Name;
    }

    private static string GenericName(Type type, string[] args)
    {
        var definition = type.GetGenericTypeDefinition();
        var prefix = definition.IsNested ? TypeName(definition.DeclaringType!) + "." : "";
        int outer = definition.IsNested ? definition.DeclaringType!.GetGenericArguments().Length : 0;
        var own = args.Skip(outer).ToArray();
        return prefix + StripArity(definition.Name) + (own.Length > 0 ? "<" + string.Join(", ", own) + ">" : "");
    }
}
