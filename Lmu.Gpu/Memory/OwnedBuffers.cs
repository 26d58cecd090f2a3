namespace Lmu.Gpu;

/// <summary>The device buffers one run allocates (scratch, uploads), disposed together when the run ends:
/// <c>using var owned = new OwnedBuffers();</c>, then pass it wherever a helper adds the buffers it allocates.</summary>
internal sealed class OwnedBuffers : List<IDisposable>, IDisposable
{
    /// <summary>Disposes every buffer added, in order, and forgets them.</summary>
    public void Dispose()
    {
        foreach (var buffer in this)
        {
            buffer.Dispose();
        }

        Clear();
    }
}
