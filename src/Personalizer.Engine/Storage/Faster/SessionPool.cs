using FASTER.core;

namespace Personalizer.Engine.Storage.Faster;

using Session = ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>>;

/// <summary>
/// Idle FASTER sessions for reads. A FASTER session is single-threaded, so a read takes one for itself: at once
/// when one is idle, else after an asynchronous wait (never a wait on a thread). A read that goes to disk keeps
/// its session until the I/O completes, and the other reads go on with the rest.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private readonly Stack<Session> _idle = new();
    private readonly SemaphoreSlim _available = new(0, int.MaxValue);
    private readonly Session[] _all;
    private readonly Session[] _refreshing;

    public SessionPool(Func<Session> create, int count)
    {
        _all = new Session[count];
        _refreshing = new Session[count];
        for (var i = 0; i < count; i++)
        {
            _all[i] = create();
            _idle.Push(_all[i]);
        }
        _available.Release(count);
    }

    public bool TryTake(out Session session)
    {
        if (_available.Wait(0))
        {
            lock (_idle)
            {
                session = _idle.Pop();
            }
            return true;
        }
        session = null!;
        return false;
    }

    public async ValueTask<Session> TakeAsync(CancellationToken ct)
    {
        await _available.WaitAsync(ct).ConfigureAwait(false);
        lock (_idle)
        {
            return _idle.Pop();
        }
    }

    public void Return(Session session)
    {
        lock (_idle)
        {
            _idle.Push(session);
        }
        _available.Release();
    }

    /// <summary>
    /// Moves every idle session to the store's current phase: a CPR checkpoint completes only once each session
    /// has, and an idle one would otherwise hold it up until its next read. A session in use moves with its own
    /// operations. Called by one checkpoint at a time.
    /// </summary>
    public void RefreshIdle()
    {
        var taken = 0;
        while (taken < _refreshing.Length && TryTake(out var session))
        {
            _refreshing[taken++] = session;
        }
        try
        {
            for (var i = 0; i < taken; i++)
            {
                _refreshing[i].Refresh();
            }
        }
        finally
        {
            for (var i = 0; i < taken; i++)
            {
                Return(_refreshing[i]);
                _refreshing[i] = null!;
            }
        }
    }

    /// <summary>Disposes every session, once the reads that hold one have returned it.</summary>
    public void Dispose()
    {
        for (var i = 0; i < _all.Length; i++)
        {
            _available.Wait(TimeSpan.FromSeconds(5));
        }
        foreach (var session in _all)
        {
            session.Dispose();
        }
        _available.Dispose();
    }
}
