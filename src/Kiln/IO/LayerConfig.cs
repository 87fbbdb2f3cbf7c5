using System.Text.Json;
using Kiln.Models;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>A parameter or buffer a layer has, known from its settings before it is built.</summary>
/// <param name="Name">The name within the layer ("weight", "running_mean").</param>
/// <param name="Shape">Its shape.</param>
/// <param name="IsParameter">A parameter (trained) rather than a buffer.</param>
/// <param name="Floating">Floating-point (the model's dtype) rather than int64.</param>
internal sealed record StateSlot(string Name, int[] Shape, bool IsParameter, bool Floating);

/// <summary>A layer read from a configuration and not built yet: the state it will have, and how to build it.</summary>
internal sealed record LayerPlan(IReadOnlyList<StateSlot> State, Func<Module> Build);

/// <summary>
/// The fixed registry of layer types a saved model may hold, with each one's settings: what
/// <see cref="Write"/> puts in config.json (the constructor arguments, from the layer's public
/// properties, with PyTorch's argument names) and what <see cref="Read"/> checks and turns back into
/// a constructor call. Types are matched exactly (a subclass of <see cref="Linear"/> is not a
/// Linear: it may compute something else), and a type name in a file is only ever looked up here,
/// so loading a file never creates a type the file names. The containers (Sequential, ModuleList,
/// ModuleDict) are listed here too; their children are written by <see cref="SavedModelConfig"/>.
/// </summary>
internal static class LayerConfig
{
    /// <summary>Every type in the registry, by the name config.json uses for it.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Types = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["Linear"] = typeof(Linear),
        ["Conv1d"] = typeof(Conv1d),
        ["Conv2d"] = typeof(Conv2d),
        ["ConvTranspose2d"] = typeof(ConvTranspose2d),
        ["MaxPool2d"] = typeof(MaxPool2d),
        ["AvgPool2d"] = typeof(AvgPool2d),
        ["AdaptiveAvgPool2d"] = typeof(AdaptiveAvgPool2d),
        ["BatchNorm1d"] = typeof(BatchNorm1d),
        ["BatchNorm2d"] = typeof(BatchNorm2d),
        ["LayerNorm"] = typeof(LayerNorm),
        ["GroupNorm"] = typeof(GroupNorm),
        ["Dropout"] = typeof(Dropout),
        ["Embedding"] = typeof(Embedding),
        ["Flatten"] = typeof(Flatten),
        ["Identity"] = typeof(Identity),
        ["Elu"] = typeof(Elu),
        ["Gelu"] = typeof(Gelu),
        ["LeakyRelu"] = typeof(LeakyRelu),
        ["LogSoftmax"] = typeof(LogSoftmax),
        ["Relu"] = typeof(Relu),
        ["Sigmoid"] = typeof(Sigmoid),
        ["Silu"] = typeof(Silu),
        ["Softmax"] = typeof(Softmax),
        ["Softplus"] = typeof(Softplus),
        ["Tanh"] = typeof(Tanh),
        ["Add"] = typeof(Add),
        ["Multiply"] = typeof(Multiply),
        ["Concatenate"] = typeof(Concatenate),
        ["Sequential"] = typeof(Sequential),
        ["ModuleList"] = typeof(ModuleList),
        ["ModuleDict"] = typeof(ModuleDict),
        ["Model"] = typeof(Model),
    };

    private static readonly Dictionary<Type, string> NamesByType = Types.ToDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>The registry name of <paramref name="module"/>'s exact type, or null when the type is not in the registry.</summary>
    public static string? NameOf(Module module) => NamesByType.GetValueOrDefault(module.GetType());

    /// <summary>Whether <paramref name="type"/> names a container, whose children config.json lists (a functional Model's with its graph).</summary>
    public static bool IsContainer(string type) => type is "Sequential" or "ModuleList" or "ModuleDict" or "Model";

    /// <summary>Whether a layer of registry type <paramref name="type"/> combines several inputs (a merge layer) rather than taking one.</summary>
    public static bool IsMerge(string type) => type is "Add" or "Multiply" or "Concatenate";

    // The largest rank LayerNorm's normalized shape may have in a file; real ones have one to three.
    private const int MaxNormalizedRank = 64;

    /// <summary>Writes <paramref name="module"/>'s constructor settings (not its type, not its children).</summary>
    public static void Write(Utf8JsonWriter w, Module module)
    {
        switch (module)
        {
            case Linear m:
                w.WriteNumber("in_features", m.InFeatures);
                w.WriteNumber("out_features", m.OutFeatures);
                w.WriteBoolean("bias", m.Bias is not null);
                break;
            case Conv1d m:
                w.WriteNumber("in_channels", m.InChannels);
                w.WriteNumber("out_channels", m.OutChannels);
                w.WriteNumber("kernel_size", m.KernelSize);
                w.WriteNumber("stride", m.Stride);
                if (m.Padding.IsSame) w.WriteString("padding", "same");
                else w.WriteNumber("padding", m.Padding.Height);
                w.WriteNumber("dilation", m.Dilation);
                w.WriteNumber("groups", m.Groups);
                w.WriteBoolean("bias", m.Bias is not null);
                break;
            case Conv2d m:
                w.WriteNumber("in_channels", m.InChannels);
                w.WriteNumber("out_channels", m.OutChannels);
                WriteSize(w, "kernel_size", m.KernelSize);
                WriteSize(w, "stride", m.Stride);
                WritePadding(w, "padding", m.Padding);
                WriteSize(w, "dilation", m.Dilation);
                w.WriteNumber("groups", m.Groups);
                w.WriteBoolean("bias", m.Bias is not null);
                break;
            case ConvTranspose2d m:
                w.WriteNumber("in_channels", m.InChannels);
                w.WriteNumber("out_channels", m.OutChannels);
                WriteSize(w, "kernel_size", m.KernelSize);
                WriteSize(w, "stride", m.Stride);
                WritePadding(w, "padding", m.Padding);
                WriteSize(w, "output_padding", m.OutputPadding);
                w.WriteNumber("groups", m.Groups);
                w.WriteBoolean("bias", m.Bias is not null);
                WriteSize(w, "dilation", m.Dilation);
                break;
            case MaxPool2d m:
                WriteSize(w, "kernel_size", m.KernelSize);
                WriteSize(w, "stride", m.Stride);
                WritePadding(w, "padding", m.Padding);
                WriteSize(w, "dilation", m.Dilation);
                w.WriteBoolean("ceil_mode", m.CeilMode);
                break;
            case AvgPool2d m:
                WriteSize(w, "kernel_size", m.KernelSize);
                WriteSize(w, "stride", m.Stride);
                WritePadding(w, "padding", m.Padding);
                w.WriteBoolean("ceil_mode", m.CeilMode);
                w.WriteBoolean("count_include_pad", m.CountIncludePad);
                break;
            case AdaptiveAvgPool2d m:
                WriteSize(w, "output_size", m.OutputSize);
                break;
            case BatchNormBase m:
                w.WriteNumber("num_features", m.NumFeatures);
                ConfigObject.WriteDouble(w, "eps", m.Eps);
                if (m.Momentum is { } momentum) ConfigObject.WriteDouble(w, "momentum", momentum);
                else w.WriteNull("momentum");
                w.WriteBoolean("affine", m.Affine);
                w.WriteBoolean("track_running_stats", m.TrackRunningStats);
                break;
            case LayerNorm m:
                w.WriteStartArray("normalized_shape");
                foreach (var d in m.NormalizedShape) w.WriteNumberValue(d);
                w.WriteEndArray();
                ConfigObject.WriteDouble(w, "eps", m.Eps);
                w.WriteBoolean("elementwise_affine", m.ElementwiseAffine);
                break;
            case GroupNorm m:
                w.WriteNumber("num_groups", m.NumGroups);
                w.WriteNumber("num_channels", m.NumChannels);
                ConfigObject.WriteDouble(w, "eps", m.Eps);
                w.WriteBoolean("affine", m.Affine);
                break;
            case Dropout m:
                ConfigObject.WriteDouble(w, "p", m.P);
                break;
            case Embedding m:
                w.WriteNumber("num_embeddings", m.NumEmbeddings);
                w.WriteNumber("embedding_dim", m.EmbeddingDim);
                if (m.PaddingIdx is { } p) w.WriteNumber("padding_idx", p);
                else w.WriteNull("padding_idx");
                break;
            case Flatten m:
                w.WriteNumber("start_dim", m.StartDim);
                w.WriteNumber("end_dim", m.EndDim);
                break;
            case Elu m:
                ConfigObject.WriteDouble(w, "alpha", m.Alpha);
                break;
            case Gelu m:
                w.WriteString("approximate", m.Approximate == GeluApproximation.Tanh ? "tanh" : "none");
                break;
            case LeakyRelu m:
                ConfigObject.WriteDouble(w, "negative_slope", m.NegativeSlope);
                break;
            case LogSoftmax m:
                w.WriteNumber("dim", m.Dim);
                break;
            case Softmax m:
                w.WriteNumber("dim", m.Dim);
                break;
            case Softplus m:
                ConfigObject.WriteDouble(w, "beta", m.Beta);
                ConfigObject.WriteDouble(w, "threshold", m.Threshold);
                break;
            case Concatenate m:
                w.WriteNumber("axis", m.Axis);
                break;
        }
    }

    /// <summary>
    /// Checks the settings of a layer of registry type <paramref name="type"/> (not a container) and
    /// plans it. Every value is range-checked here, so that the constructor's own checks are a backstop.
    /// </summary>
    public static LayerPlan Read(string type, ConfigObject c)
    {
        switch (type)
        {
            case "Linear":
            {
                int i = c.Int("in_features", 1), o = c.Int("out_features", 1);
                bool bias = c.Bool("bias");
                return Plan(() => new Linear(i, o, bias), Weight([o, i]), Bias(bias, o));
            }
            case "Conv1d":
            {
                int i = c.Int("in_channels", 1), o = c.Int("out_channels", 1), k = c.Int("kernel_size", 1), s = c.Int("stride", 1);
                var paddingValue = c.Required("padding");
                Padding padding = paddingValue.ValueKind == JsonValueKind.String && paddingValue.ValueEquals("same") ? Padding.Same : c.Int("padding", 0);
                int d = c.Int("dilation", 1), g = Groups(c, i, o);
                bool bias = c.Bool("bias");
                return Plan(() => new Conv1d(i, o, k, s, padding, d, g, bias), Weight([o, i / g, k]), Bias(bias, o));
            }
            case "Conv2d":
            {
                int i = c.Int("in_channels", 1), o = c.Int("out_channels", 1);
                Size2d k = c.Size("kernel_size", 1), s = c.Size("stride", 1);
                var padding = c.Padding("padding");
                var d = c.Size("dilation", 1);
                int g = Groups(c, i, o);
                bool bias = c.Bool("bias");
                return Plan(() => new Conv2d(i, o, k, s, padding, d, g, bias), Weight([o, i / g, k.Height, k.Width]), Bias(bias, o));
            }
            case "ConvTranspose2d":
            {
                int i = c.Int("in_channels", 1), o = c.Int("out_channels", 1);
                Size2d k = c.Size("kernel_size", 1), s = c.Size("stride", 1);
                var padding = NotSame(c, "padding");
                var op = c.Size("output_padding", 0);
                int g = Groups(c, i, o);
                bool bias = c.Bool("bias");
                var d = c.Size("dilation", 1);
                if (op.Height >= Math.Max(s.Height, d.Height) || op.Width >= Math.Max(s.Width, d.Width))
                    throw c.Error("output_padding", $"is {op}; it must be smaller than the stride {s} or the dilation {d}");
                return Plan(() => new ConvTranspose2d(i, o, k, s, padding, op, g, bias, d), Weight([i, o / g, k.Height, k.Width]), Bias(bias, o));
            }
            case "MaxPool2d":
            {
                Size2d k = c.Size("kernel_size", 1), s = c.Size("stride", 1);
                var padding = NotSame(c, "padding");
                var d = c.Size("dilation", 1);
                bool ceil = c.Bool("ceil_mode");
                return Plan(() => new MaxPool2d(k, s, padding, d, ceil));
            }
            case "AvgPool2d":
            {
                Size2d k = c.Size("kernel_size", 1), s = c.Size("stride", 1);
                var padding = NotSame(c, "padding");
                bool ceil = c.Bool("ceil_mode"), includePad = c.Bool("count_include_pad");
                return Plan(() => new AvgPool2d(k, s, padding, ceil, includePad));
            }
            case "AdaptiveAvgPool2d":
            {
                var size = c.Size("output_size", 1);
                return Plan(() => new AdaptiveAvgPool2d(size));
            }
            case "BatchNorm1d" or "BatchNorm2d":
            {
                int n = c.Int("num_features", 1);
                double eps = NonNegative(c, "eps");
                double? momentum = c.NullableDouble("momentum");
                if (momentum is { } m && !(m >= 0 && m <= 1)) throw c.Error("momentum", $"is {m}; expected a number in [0, 1] or null");
                bool affine = c.Bool("affine"), track = c.Bool("track_running_stats");
                var slots = new List<StateSlot>();
                if (affine) slots.AddRange([Weight([n]), new StateSlot("bias", [n], true, true)]);
                if (track)
                    slots.AddRange([new StateSlot("running_mean", [n], false, true), new StateSlot("running_var", [n], false, true),
                        new StateSlot("num_batches_tracked", [], false, false)]);
                return type == "BatchNorm1d"
                    ? new LayerPlan(slots, () => new BatchNorm1d(n, eps, momentum, affine, track))
                    : new LayerPlan(slots, () => new BatchNorm2d(n, eps, momentum, affine, track));
            }
            case "LayerNorm":
            {
                var shape = c.IntArray("normalized_shape", 1, int.MaxValue, MaxNormalizedRank);
                if (shape.Length == 0) throw c.Error("normalized_shape", "is empty; expected at least one dimension");
                double eps = NonNegative(c, "eps");
                bool affine = c.Bool("elementwise_affine");
                return Plan(() => new LayerNorm(shape, eps, affine), Affine(affine, shape));
            }
            case "GroupNorm":
            {
                int groups = c.Int("num_groups", 1), channels = c.Int("num_channels", 1);
                if (channels % groups != 0) throw c.Error("num_channels", $"is {channels}, which num_groups ({groups}) does not divide");
                double eps = NonNegative(c, "eps");
                bool affine = c.Bool("affine");
                return Plan(() => new GroupNorm(groups, channels, eps, affine), Affine(affine, [channels]));
            }
            case "Dropout":
            {
                double p = c.Double("p");
                if (!(p >= 0 && p <= 1)) throw c.Error("p", $"is {p}; expected a probability in [0, 1]");
                return Plan(() => new Dropout(p));
            }
            case "Embedding":
            {
                int n = c.Int("num_embeddings", 1), dim = c.Int("embedding_dim", 1);
                int? paddingIdx = c.NullableInt("padding_idx", 0, n - 1);
                return Plan(() => new Embedding(n, dim, paddingIdx), Weight([n, dim]));
            }
            case "Flatten":
            {
                int start = c.Int("start_dim"), end = c.Int("end_dim");
                return Plan(() => new Flatten(start, end));
            }
            case "Identity": return Plan(() => new Identity());
            case "Elu":
            {
                double alpha = c.Double("alpha", finite: false);
                return Plan(() => new Elu(alpha));
            }
            case "Gelu":
            {
                var approximate = c.String("approximate") switch
                {
                    "none" => GeluApproximation.None,
                    "tanh" => GeluApproximation.Tanh,
                    var other => throw c.Error("approximate", $"is {ConfigObject.Quote(other)}; expected \"none\" or \"tanh\""),
                };
                return Plan(() => new Gelu(approximate));
            }
            case "LeakyRelu":
            {
                double slope = c.Double("negative_slope", finite: false);
                return Plan(() => new LeakyRelu(slope));
            }
            case "LogSoftmax":
            {
                int dim = c.Int("dim");
                return Plan(() => new LogSoftmax(dim));
            }
            case "Softmax":
            {
                int dim = c.Int("dim");
                return Plan(() => new Softmax(dim));
            }
            case "Softplus":
            {
                double beta = c.Double("beta", finite: false), threshold = c.Double("threshold", finite: false);
                return Plan(() => new Softplus(beta, threshold));
            }
            case "Relu": return Plan(() => new Relu());
            case "Sigmoid": return Plan(() => new Sigmoid());
            case "Silu": return Plan(() => new Silu());
            case "Tanh": return Plan(() => new Tanh());
            case "Add": return Plan(() => new Add());
            case "Multiply": return Plan(() => new Multiply());
            case "Concatenate":
            {
                int axis = c.Int("axis");
                if (axis == 0) throw c.Error("axis", "is 0, the batch dimension; expected a feature dimension");
                return Plan(() => new Concatenate(axis));
            }
            default:
                throw new ArgumentException($"'{type}' is not a layer type of the registry", nameof(type));
        }
    }

    private static LayerPlan Plan(Func<Module> build, params StateSlot?[] slots)
    {
        var list = new List<StateSlot>();
        foreach (var s in slots)
            if (s is not null) list.Add(s);
        return new LayerPlan(list, build);
    }

    private static StateSlot Weight(int[] shape) => new("weight", shape, true, true);

    private static StateSlot? Bias(bool present, int size) => present ? new StateSlot("bias", [size], true, true) : null;

    private static StateSlot[] Affine(bool present, int[] shape)
        => present ? [Weight(shape), new StateSlot("bias", shape, true, true)] : [];

    private static int Groups(ConfigObject c, int inChannels, int outChannels)
    {
        int g = c.Int("groups", 1);
        if (inChannels % g != 0 || outChannels % g != 0)
            throw c.Error("groups", $"is {g}, which does not divide both the input channels ({inChannels}) and the output channels ({outChannels})");
        return g;
    }

    private static Padding NotSame(ConfigObject c, string name)
    {
        var padding = c.Padding(name);
        if (padding.IsSame) throw c.Error(name, "is \"same\", which this layer does not support; expected [height, width]");
        return padding;
    }

    private static double NonNegative(ConfigObject c, string name)
    {
        double value = c.Double(name);
        if (value < 0) throw c.Error(name, $"is {value}; expected a number >= 0");
        return value;
    }

    private static void WriteSize(Utf8JsonWriter w, string name, Size2d size)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(size.Height);
        w.WriteNumberValue(size.Width);
        w.WriteEndArray();
    }

    private static void WritePadding(Utf8JsonWriter w, string name, Padding padding)
    {
        if (padding.IsSame)
        {
            w.WriteString(name, "same");
            return;
        }
        WriteSize(w, name, new Size2d(padding.Height, padding.Width));
    }
}
