namespace LiveImage.Tasks.StageCache;

/// <summary>
/// The registry answered 401 or 403: it wants credentials the build does not have, or refuses the ones
/// it has (LIVE1096, not the "cannot be reached" of LIVE1093). The message never holds the credentials.
/// </summary>
internal sealed class RegistryRefusedException(string message) : HttpRequestException(message);
