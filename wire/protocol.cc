#include "wire/protocol.h"

namespace corral::wire {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ZOK";
    case ErrorCode::kSystemError:
      return "ZSYSTEMERROR";
    case ErrorCode::kRuntimeInconsistency:
      return "ZRUNTIMEINCONSISTENCY";
    case ErrorCode::kDataInconsistency:
      return "ZDATAINCONSISTENCY";
    case ErrorCode::kConnectionLoss:
      return "ZCONNECTIONLOSS";
    case ErrorCode::kMarshallingError:
      return "ZMARSHALLINGERROR";
    case ErrorCode::kUnimplemented:
      return "ZUNIMPLEMENTED";
    case ErrorCode::kOperationTimeout:
      return "ZOPERATIONTIMEOUT";
    case ErrorCode::kBadArguments:
      return "ZBADARGUMENTS";
    case ErrorCode::kUnknownSession:
      return "ZUNKNOWNSESSION";
    case ErrorCode::kNewConfigNoQuorum:
      return "ZNEWCONFIGNOQUORUM";
    case ErrorCode::kReconfigInProgress:
      return "ZRECONFIGINPROGRESS";
    case ErrorCode::kApiError:
      return "ZAPIERROR";
    case ErrorCode::kNoNode:
      return "ZNONODE";
    case ErrorCode::kNoAuth:
      return "ZNOAUTH";
    case ErrorCode::kBadVersion:
      return "ZBADVERSION";
    case ErrorCode::kNoChildrenForEphemerals:
      return "ZNOCHILDRENFOREPHEMERALS";
    case ErrorCode::kNodeExists:
      return "ZNODEEXISTS";
    case ErrorCode::kNotEmpty:
      return "ZNOTEMPTY";
    case ErrorCode::kSessionExpired:
      return "ZSESSIONEXPIRED";
    case ErrorCode::kInvalidCallback:
      return "ZINVALIDCALLBACK";
    case ErrorCode::kInvalidAcl:
      return "ZINVALIDACL";
    case ErrorCode::kAuthFailed:
      return "ZAUTHFAILED";
    case ErrorCode::kClosing:
      return "ZCLOSING";
    case ErrorCode::kNothing:
      return "ZNOTHING";
    case ErrorCode::kSessionMoved:
      return "ZSESSIONMOVED";
    case ErrorCode::kNotReadOnly:
      return "ZNOTREADONLY";
    case ErrorCode::kEphemeralOnLocalSession:
      return "ZEPHEMERALONLOCALSESSION";
    case ErrorCode::kNoWatcher:
      return "ZNOWATCHER";
    case ErrorCode::kRequestTimeout:
      return "ZREQUESTTIMEOUT";
    case ErrorCode::kReconfigDisabled:
      return "ZRECONFIGDISABLED";
    case ErrorCode::kSessionClosedRequireSaslAuth:
      return "ZSESSIONCLOSEDREQUIRESASLAUTH";
    case ErrorCode::kQuotaExceeded:
      return "ZQUOTAEXCEEDED";
    case ErrorCode::kThrottledOp:
      return "ZTHROTTLEDOP";
  }
  return "ZUNKNOWN";
}

}  // namespace corral::wire
