using Kiln.Data;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Models;

/// <summary>
/// The Keras-style loop on any <see cref="Module"/> (the same model a PyTorch-style loop trains):
/// <c>model.Compile(new Adam(lr: 1e-3), Losses.CrossEntropy, Metrics.Accuracy)</c>, then
/// <c>model.Fit(train, epochs: 10, validation: test)</c>, <c>model.Evaluate(test)</c> and
/// <c>model.Predict(x)</c>. Compile attaches a <see cref="Trainer"/> to the model; the other methods
/// forward to it, and throw until the model is compiled.
/// </summary>
public static class ModelTraining
{
    /// <summary>
    /// Configures <paramref name="model"/> for Fit, Evaluate and Predict (replacing an earlier
    /// configuration). The optimizer may be created without parameters: the first Fit adds the model's.
    /// Each metric is copied, so one list can configure several models.
    /// </summary>
    /// <returns>The trainer, which holds the configuration, the <see cref="History"/> and the training state callbacks see.</returns>
    public static Trainer Compile(this Module model, Optimizer optimizer, Loss loss, params Metric[] metrics)
        => Trainer.Compile(model, optimizer, loss, metrics);

    /// <inheritdoc cref="Trainer.Fit(DataLoader, int, int, IEnumerable{Callback}?, DataLoader?, IReadOnlyDictionary{int, double}?, int)"/>
    public static History Fit(this Module model, DataLoader data, int epochs = 1, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        DataLoader? validation = null, IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
        => Trainer.Of(model).Fit(data, epochs, verbose, callbacks, validation, classWeight, initialEpoch);

    /// <inheritdoc cref="Trainer.Fit(Tensor, Tensor, int, int, int, IEnumerable{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, IReadOnlyDictionary{int, double}?, int)"/>
    public static History Fit(this Module model, Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IEnumerable<Callback>? callbacks = null, double validationSplit = 0, (Tensor X, Tensor Y)? validationData = null, bool shuffle = true,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
        => Trainer.Of(model).Fit(x, y, batchSize, epochs, verbose, callbacks, validationSplit, validationData, shuffle, classWeight, initialEpoch);

    /// <inheritdoc cref="Trainer.Fit(Tensor[], Tensor[], int, int, int, IEnumerable{Callback}?, double, ValueTuple{Tensor[], Tensor[]}?, bool, IReadOnlyDictionary{int, double}?, int)"/>
    public static History Fit(this Module model, Tensor[] x, Tensor[] y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IEnumerable<Callback>? callbacks = null, double validationSplit = 0, (Tensor[] X, Tensor[] Y)? validationData = null, bool shuffle = true,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0)
        => Trainer.Of(model).Fit(x, y, batchSize, epochs, verbose, callbacks, validationSplit, validationData, shuffle, classWeight, initialEpoch);

    /// <inheritdoc cref="Trainer.Evaluate(DataLoader, int, IEnumerable{Callback}?)"/>
    public static IReadOnlyDictionary<string, double> Evaluate(this Module model, DataLoader data, int verbose = 1, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Evaluate(data, verbose, callbacks);

    /// <inheritdoc cref="Trainer.Evaluate(Tensor, Tensor, int, int, IEnumerable{Callback}?)"/>
    public static IReadOnlyDictionary<string, double> Evaluate(this Module model, Tensor x, Tensor y, int batchSize = 32, int verbose = 1, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Evaluate(x, y, batchSize, verbose, callbacks);

    /// <inheritdoc cref="Trainer.Evaluate(Tensor[], Tensor[], int, int, IEnumerable{Callback}?)"/>
    public static IReadOnlyDictionary<string, double> Evaluate(this Module model, Tensor[] x, Tensor[] y, int batchSize = 32, int verbose = 1, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Evaluate(x, y, batchSize, verbose, callbacks);

    /// <inheritdoc cref="Trainer.Predict(DataLoader, int, IEnumerable{Callback}?)"/>
    public static Tensor Predict(this Module model, DataLoader data, int verbose = 0, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Predict(data, verbose, callbacks);

    /// <inheritdoc cref="Trainer.Predict(Tensor, int, int, IEnumerable{Callback}?)"/>
    public static Tensor Predict(this Module model, Tensor x, int batchSize = 32, int verbose = 0, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Predict(x, batchSize, verbose, callbacks);

    /// <inheritdoc cref="Trainer.Predict(Tensor[], int, int, IEnumerable{Callback}?)"/>
    public static Tensor[] Predict(this Module model, Tensor[] x, int batchSize = 32, int verbose = 0, IEnumerable<Callback>? callbacks = null)
        => Trainer.Of(model).Predict(x, batchSize, verbose, callbacks);
}
