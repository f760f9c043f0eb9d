namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>One part of a cross-node hand-off with notices (a write, the notice's trip, the actor hops between them).</summary>
internal sealed record HandOffPart(string Name, LatencySummary Summary);

/// <summary>The parts of the hand-offs of one hand-off row (<see cref="Series"/> names it).</summary>
internal sealed record HandOffPartsRow(string Series, IReadOnlyList<HandOffPart> Parts);
