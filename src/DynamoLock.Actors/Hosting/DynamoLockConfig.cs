using Akka.Configuration;

namespace DynamoLock.Actors.Hosting;

/// <summary>The library's embedded <c>reference.conf</c>: the defaults of the <c>dynamolock</c> HOCON section.</summary>
public static class DynamoLockConfig
{
    private static readonly Lazy<Config> LazyDefault = new(Load);

    /// <summary>The defaults, to use as a fallback: <c>config.WithFallback(DynamoLockConfig.Default)</c>.</summary>
    public static Config Default => LazyDefault.Value;

    private static Config Load()
    {
        using var stream = typeof(DynamoLockConfig).Assembly.GetManifestResourceStream("DynamoLock.Actors.reference.conf")
            ?? throw new InvalidOperationException("The embedded reference.conf of DynamoLock.Actors is missing.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
