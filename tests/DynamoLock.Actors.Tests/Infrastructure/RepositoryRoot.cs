namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>The repository's root folder (the one holding DynamoLock.Actors.sln), found above the test output.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "DynamoLock.Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (DynamoLock.Actors.sln) is not above the test output.");
    }
}
