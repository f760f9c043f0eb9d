using Amazon.Runtime;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// A <see cref="RequestCounter"/> that also reads the server's clock from the HTTP <c>Date</c> header of each answer,
/// for the self-test's informative clock-offset figure. The lock protocol never uses the server's clock, nor this one's.
/// </summary>
/// <remarks>
/// The server stamped each answer between our sending the request and our receiving the answer, and an HTTP date has
/// whole seconds (its clock read somewhere in [Date, Date + 1 s)). So every answer bounds the offset (server minus this
/// machine): at least Date - received, at most Date + 1 s - sent. Intersecting the bounds of many answers, sent at
/// different fractions of a second, narrows the offset well below a second without trusting any one of them.
/// </remarks>
internal sealed class ServerClockWatch : RequestCounter
{
    private static readonly TimeSpan DateResolution = TimeSpan.FromSeconds(1);
    private readonly object _gate = new();
    private TimeSpan _low = TimeSpan.MinValue;
    private TimeSpan _high = TimeSpan.MaxValue;
    private int _answers;

    /// <summary>What the answers so far say about the server's clock; <see langword="null"/> when none carried a Date.</summary>
    public ClockOffset? Offset
    {
        get
        {
            lock (_gate)
            {
                return _answers == 0 ? null : new ClockOffset(_low, _high, _answers);
            }
        }
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(string operation, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        var sent = TimeProvider.System.GetUtcNow();
        var response = await send(cancellationToken).ConfigureAwait(false);
        var received = TimeProvider.System.GetUtcNow();
        if (response.Headers.Date is { } date)
        {
            lock (_gate)
            {
                _low = Max(_low, date - received);
                _high = Min(_high, date + DateResolution - sent);
                _answers++;
            }
        }

        return response;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>The server's clock minus this machine's, between <paramref name="Low"/> and <paramref name="High"/>.</summary>
    /// <param name="Low">The least offset every answer allows.</param>
    /// <param name="High">The greatest offset every answer allows.</param>
    /// <param name="Answers">How many answers carried a Date header.</param>
    internal sealed record ClockOffset(TimeSpan Low, TimeSpan High, int Answers)
    {
        /// <summary>Whether the answers agree (a server whose clock stepped, or that rounds its dates, may not).</summary>
        public bool Consistent => Low <= High;

        /// <summary>The middle of the bounds.</summary>
        public TimeSpan Estimate => Low + ((High - Low) / 2);

        /// <summary>How far the true offset may be from <see cref="Estimate"/>.</summary>
        public TimeSpan Uncertainty => (High - Low) / 2;
    }
}
