using Amazon.DynamoDBv2;
using DynamoLock.Actors.Hosting;
using Xunit;

namespace DynamoLock.Actors.Tests.Hosting;

/// <summary>The one DynamoDB client factory of the library and the tool: which endpoints count as local, and bad URLs.</summary>
public sealed class DynamoDbClientsTests
{
    [Theory]
    [InlineData("http://localhost:8000", true)]
    [InlineData("http://LOCALHOST:8000", true)]
    [InlineData("http://127.0.0.1:8000", true)]
    [InlineData("http://127.8.9.10:8000", true)]
    [InlineData("http://[::1]:8000", true)]
    [InlineData("https://dynamodb.eu-west-1.amazonaws.com", false)]
    [InlineData("http://10.0.0.5:8000", false)]
    [InlineData("http://localhost.example.com:8000", false)]
    public void Only_loopback_endpoints_count_as_local(string endpoint, bool loopback) =>
        Assert.Equal(loopback, DynamoDbClients.IsLoopback(new Uri(endpoint)));

    [Theory]
    [InlineData("localhost:8123", "did you mean http://localhost:8123?")]
    [InlineData("ftp://localhost:8123", "ftp://localhost:8123")]
    [InlineData("/relative", "/relative")]
    public void A_url_that_is_not_absolute_http_names_the_setting(string endpoint, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => DynamoDbClients.Create(endpoint, null, "--endpoint"));

        Assert.Equal("--endpoint", error.ParamName);
        Assert.StartsWith("--endpoint must be an absolute http or https URL", HumanText.Problem(error), StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_bare_host_and_port_gets_a_guess()
    {
        var path = Assert.Throws<ArgumentException>(() => DynamoDbClients.Create("/relative", null, "--endpoint"));
        var scheme = Assert.Throws<ArgumentException>(() => DynamoDbClients.Create("ftp://localhost:8123", null, "--endpoint"));

        Assert.DoesNotContain("did you mean", path.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", scheme.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_endpoint_gets_a_signing_region()
    {
        using var client = (AmazonDynamoDBClient)DynamoDbClients.Create("http://127.0.0.1:1", "eu-west-3");

        Assert.Equal("http://127.0.0.1:1", client.Config.ServiceURL.TrimEnd('/'));
        Assert.Equal("eu-west-3", client.Config.AuthenticationRegion);
    }
}
