using System.Text;

namespace Personalizer.Engine.Storage;

/// <summary>
/// Key layout shared by the stores: a kind byte, the site, a 0 separator, the id. Sites and ids never
/// contain 0 (validated at the edge), so no key of one site can equal a key of another.
/// </summary>
internal static class StoreKeys
{
    public const byte Profile = (byte)'p';
    public const byte EventId = (byte)'e';
    public const byte Customer = (byte)'c';
    public const byte Meta = (byte)'m';
    public const byte Counter = (byte)'n';

    public static int MaxLength(string site, string id) => 2 + Encoding.UTF8.GetMaxByteCount(site.Length + id.Length);

    public static int Write(Span<byte> destination, byte kind, string site, string id)
    {
        destination[0] = kind;
        var n = 1 + Encoding.UTF8.GetBytes(site, destination[1..]);
        destination[n++] = 0;
        n += Encoding.UTF8.GetBytes(id, destination[n..]);
        return n;
    }
}
